// diff.js - the node (V8) side of the differential test (tests/fuzz/diff.py).
//
//   node --experimental-wasm-type-reflection diff.js FILE.wasm...
//
// Prints, for each module, exactly what diff_driver.c prints for wex: see
// the format there. Traps are classed by V8's messages.
'use strict';
const fs = require('fs');

const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);
const f64 = new Float64Array(1), u64 = new BigUint64Array(f64.buffer);

// One value in the shared format.
function fmt(type, v) {
  switch (type) {
    case 'i32': return 'i32:' + (v | 0);
    case 'i64': return 'i64:' + BigInt.asIntN(64, BigInt(v));
    case 'f32':
      if (Number.isNaN(v)) return 'f32:nan';
      f32[0] = v;
      return 'f32:0x' + u32[0].toString(16).padStart(8, '0');
    case 'f64':
      if (Number.isNaN(v)) return 'f64:nan';
      f64[0] = v;
      return 'f64:0x' + u64[0].toString(16).padStart(16, '0');
    case 'funcref':
    case 'externref': return type + ':' + (v === null ? 'null' : 'nonnull');
    default: return type + ':?';
  }
}

// The trap class of a V8 error, as diff_driver.c names wex's.
function kind(e) {
  const m = String(e && e.message);
  if (e instanceof RangeError && /call stack/i.test(m)) return 'stack';
  if (/unreachable/.test(m)) return 'unreachable';
  // before 'table': "unrepresentable" holds the word
  if (/unrepresentable/.test(m)) return 'overflow';
  if (/memory access out of bounds|data segment/.test(m)) return 'memory';
  if (/\btable\b|element segment/.test(m)) return 'table';
  if (/null function|signature mismatch/.test(m)) return 'indirect';
  if (/divide by zero|remainder by zero/.test(m)) return 'divzero';
  return 'other(' + m + ')';
}

const zero = { i32: 0, i64: 0n, f32: 0, f64: 0, funcref: null, externref: null };

// Run one module file, printing everything it does.
function run(path) {
  const out = ['module ' + path];
  let mod;
  try {
    mod = new WebAssembly.Module(fs.readFileSync(path));
  } catch (e) {
    out.push('invalid');
    return out;
  }
  const imports = {};
  for (const im of WebAssembly.Module.imports(mod)) {
    const t = im.type;
    if (im.kind !== 'function' || im.module !== 'fuzzing-support' || !im.name.startsWith('log-') ||
        t.parameters.length !== 1 || t.results.length !== 0) {
      out.push('unsupported-import ' + im.module + '.' + im.name);
      return out;
    }
    const ty = t.parameters[0];
    (imports[im.module] = imports[im.module] || {})[im.name] = (v) => { out.push('log ' + fmt(ty, v)); };
  }
  let inst;
  try {
    inst = new WebAssembly.Instance(mod, imports);
  } catch (e) {
    out.push(e instanceof WebAssembly.RuntimeError || e instanceof RangeError
             ? 'instantiate-trap ' + kind(e) : 'instantiate-error');
    return out;
  }
  const ex = inst.exports;
  for (const d of WebAssembly.Module.exports(mod)) {
    if (d.kind !== 'function' || d.name === 'hangLimitInitializer') continue;
    if (ex.hangLimitInitializer) ex.hangLimitInitializer();
    out.push('call ' + d.name);
    const t = d.type;
    try {
      let r = ex[d.name](...t.parameters.map((p) => zero[p]));
      if (t.results.length === 1) r = [r];
      else if (t.results.length === 0) r = [];
      out.push(['result'].concat(t.results.map((rt, i) => fmt(rt, r[i]))).join(' '));
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError || e instanceof RangeError) out.push('trap ' + kind(e));
      else out.push('error ' + e);
    }
  }
  return out;
}

let text = '';
for (const p of process.argv.slice(2)) text += run(p).join('\n') + '\n';
process.stdout.write(text);
