// workerd side of the edge smoke, run by `workerd test`: derive the DID in the wasm module and
// compare with the native one passed in as a text binding.
import kamnModule from "./kamn.wasm";
import { deriveDid, parityView } from "./kamn-probe.mjs";

export default {
  async test(_controller, env) {
    const report = await deriveDid(kamnModule, JSON.parse(env.REQUEST));
    const got = parityView(report);
    const want = parityView(JSON.parse(env.EXPECTED));
    if (got !== want) {
      throw new Error(`workerd probe: wasm derived ${got}, native derived ${want}`);
    }
    let reached = false;
    try {
      await fetch("http://127.0.0.1:65535/");
      reached = true;
    } catch {
      // Expected: the worker's only outbound service allows no network at all.
    }
    if (reached) {
      throw new Error("workerd probe: network access was not denied");
    }
    console.log(`workerd probe: did=${report.identity.did} matches native; network denied`);
  },
};
