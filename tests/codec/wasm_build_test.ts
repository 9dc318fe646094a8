import assert from "node:assert/strict";
import { assemble, moduleWat, tsModule } from "../../scripts/build_wasm.ts";

Deno.test("committed wasm matches its generated source (run scripts/build_wasm.ts)", async () => {
  const wat = moduleWat("i8x16.relaxed_swizzle");
  const committedWat = await Deno.readTextFile(
    new URL("../../lib/codec/wasm/codec.wat", import.meta.url),
  );
  assert.equal(committedWat, wat);
  const ts = tsModule(
    await assemble(wat),
    await assemble(moduleWat("i8x16.swizzle")),
  );
  const committedTs = await Deno.readTextFile(
    new URL("../../lib/codec/codec_wasm.generated.ts", import.meta.url),
  );
  assert.equal(committedTs, ts);
});
