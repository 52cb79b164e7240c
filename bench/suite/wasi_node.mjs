// wasi_node.mjs - run a wasm32-wasi command module under node's WASI
// (preview1), for bench/run:
//   node --experimental-wasi-unstable-preview1 wasi_node.mjs FILE.wasm [ARGS...]
// No preopens and an empty environment, as bench/run gives wex.
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';

const [file, ...args] = process.argv.slice(2);
const wasi = new WASI({ version: 'preview1', args: [file, ...args], env: {}, returnOnExit: true });
const module = await WebAssembly.compile(await readFile(file));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
process.exitCode = wasi.start(instance);
