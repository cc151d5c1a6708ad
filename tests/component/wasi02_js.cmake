# Included by tests/component/CMakeLists.txt at configure time: writes the
# source of wasi02_js.wasm, a JavaScript command component (componentize-js,
# StarlingMonkey: wasi:cli/run, console on stdout/stderr, crypto random,
# clocks, a setTimeout through wasi:io/poll), and its world, into DIR.
file(WRITE "${w02_js_dir}/app.js" [=[
export const run = {
  async run() {
    console.log("hello from JS");
    const a = new Uint8Array(16);
    crypto.getRandomValues(a);
    console.log("random bytes:", a.length, a.some(x => x !== 0), "Math.random in [0,1):", Math.random() < 1);
    console.log("wall clock after 2020:", Date.now() > 1577836800000);
    const t0 = performance.now();
    await new Promise(resolve => setTimeout(resolve, 30));
    const dt = performance.now() - t0;
    console.log("setTimeout waited >= 25 ms:", dt >= 25, "< 5 s:", dt < 5000);
    console.error("to stderr");
    console.log(JSON.stringify({ encoded: Array.from(new TextEncoder().encode("héllo")) }));
  }
};
]=])
file(WRITE "${w02_js_dir}/wit/world.wit" "package shoal:jsrun;\nworld cmd {\n  export wasi:cli/run@0.2.12;\n}\n")
