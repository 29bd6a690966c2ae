// Deno side of the edge smoke: derive the DID in the wasm module and compare with the native one.
// Usage: deno run --no-prompt --allow-read=<wasm> deno-probe.mjs <wasm> <request-json> <expected-json>
import { deriveDid, parityView } from "./kamn-probe.mjs";

const [wasmPath, requestJson, expectedJson] = Deno.args;
const report = await deriveDid(await Deno.readFile(wasmPath), JSON.parse(requestJson));
const got = parityView(report);
const want = parityView(JSON.parse(expectedJson));
if (got !== want) {
  console.error(`deno probe: wasm derived ${got}\nnative derived ${want}`);
  Deno.exit(1);
}
let networkDenied = false;
try {
  await fetch("http://127.0.0.1:65535/");
} catch (e) {
  networkDenied = e?.name === "NotCapable";
}
if (!networkDenied) {
  console.error("deno probe: network access was not denied");
  Deno.exit(1);
}
console.log(`deno probe: did=${report.identity.did} matches native; network denied`);
