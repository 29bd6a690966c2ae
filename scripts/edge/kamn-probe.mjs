// Calls the kamn-wasm module's C ABI from any WebAssembly host (Deno, workerd, browsers).
// `source` is the module's bytes or an already compiled WebAssembly.Module.
export async function deriveDid(source, request) {
  const compiled = source instanceof WebAssembly.Module ? source : await WebAssembly.compile(source);
  const instance = await WebAssembly.instantiate(compiled, {});
  const abi = instance.exports;
  const input = new TextEncoder().encode(JSON.stringify(request));
  const inPtr = abi.kamn_alloc(input.length);
  new Uint8Array(abi.memory.buffer, inPtr, input.length).set(input);
  const packed = BigInt.asUintN(64, BigInt(abi.kamn_did_init(inPtr, input.length)));
  abi.kamn_free(inPtr, input.length);
  const outPtr = Number(packed >> 32n);
  const outLen = Number(packed & 0xffffffffn);
  const text = new TextDecoder().decode(new Uint8Array(abi.memory.buffer, outPtr, outLen).slice());
  abi.kamn_free(outPtr, outLen);
  const answer = JSON.parse(text);
  if (answer.error !== undefined) {
    throw new Error(`kamn-wasm refused the request: ${answer.error}`);
  }
  return answer.report;
}

// Canonical JSON (sorted keys) so two hosts' reports compare byte for byte.
export function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

// The fields that must be identical between the native CLI and a wasm build.
export function parityView(report) {
  return canonical({ identity: report.identity, did_document: report.did_document });
}
