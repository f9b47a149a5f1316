#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Builds the WebAssembly backend (npm run build:wasm) into build-wasm/ (not build/: node-gyp rebuild deletes
// that whole folder): simdnet.js (Emscripten's glue, a
// factory) and simdnet.wasm, one thread, for browsers and Node; simdnet-threads.js + .wasm + .worker.js, the
// pthreads build, Node's default where it can run (SharedArrayBuffer memory, the ops' thread pool on
// Emscripten's pthreads; see docs/wasm.md); and simdnet-threads-web.js + .wasm + .worker.js, the same objects
// linked for browsers, which use it when the page is crossOriginIsolated. `--only single|threads|threads-web`
// builds one of them. Sources:
// native/sources.json's "common" and "simd128" lists (binding*.cc included: they compile against
// native/wasm/napi.h, so the checks are the addon's own), the call trampoline native/wasm/napi_shim.cc, and
// for the threaded builds native/wasm/lpad_context.cc.
// Needs Emscripten's em++ on PATH (Debian: apt-get install emscripten). Objects are rebuilt when a
// source, any native header or this script is newer.
const { execFileSync, spawn } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'build-wasm');

// The builds: objects of the threaded ones are compiled with -pthread (atomics, shared memory), so they live
// apart; the two threaded builds share them and differ only in the link. Emscripten 3.1.6 starts Node's
// pthreads through worker_threads only in its "node" environment, and that glue requires Node built-ins,
// which the browser bundle must not: hence one threaded glue per environment.
const threaded = {
  objDir: path.join(out, 'obj-threads'),
  // Replaces libunwind's Unwind-wasm.c: without it no typed catch clause matches with -pthread (see the file).
  sources: ['native/wasm/lpad_context.cc'],
  compile: ['-pthread'],
  link: [
    '-pthread',
    // No workers made at start-up (that would make the start asynchronous): lib/backend/wasm-load.ts
    // hands them out as the thread pool (native/ops/thread_pool.cc) starts its threads, and in browsers
    // makes and loads them inside init().
    '-sPTHREAD_POOL_SIZE=0',
    // Memory growth with pthreads warns that JS reads of the heap get slower; the host's copies check
    // for growth once per call (wasm-host.ts).
    '-Wno-pthreads-mem-growth',
  ],
};
const variants = {
  single: {
    name: 'simdnet',
    objDir: path.join(out, 'obj'),
    sources: [],
    compile: [],
    link: ['-sENVIRONMENT=web,worker'],
  },
  threads: {
    ...threaded,
    name: 'simdnet-threads',
    link: [
      ...threaded.link,
      '-sENVIRONMENT=node',
      // A library must not install process-wide handlers.
      '-sNODEJS_CATCH_EXIT=0',
      '-sNODEJS_CATCH_REJECTION=0',
    ],
  },
  // Its workers load simdnet-threads-web.js with importScripts, so it stays a classic script file beside the
  // bundle (which holds a copy for the page's thread).
  'threads-web': { ...threaded, name: 'simdnet-threads-web', link: [...threaded.link, '-sENVIRONMENT=web,worker'] },
};

const compileFlags = [
  '-std=c++17',
  '-O3',
  '-msimd128',
  '-fno-math-errno',
  '-fwasm-exceptions',
  '-DSIMDNET_HAVE_WASM_KERNELS',
  // napi.h resolves to the shim, so binding*.cc build unchanged.
  '-I' + path.join(root, 'native', 'wasm'),
  '-I' + path.join(root, 'native'),
];

const linkFlags = [
  '-O3',
  // Binaryen's -O3 inlines every function with one caller, whatever its size: the kernels' register tiles
  // (SN_TILE in native/kernels/common/vec.inc) would end up in one huge function again, where V8 keeps the
  // accumulators on the stack. Only small functions with one caller are inlined.
  '-sBINARYEN_EXTRA_PASSES=--one-caller-inline-max-function-size=20',
  '-fwasm-exceptions',
  '-sMODULARIZE=1',
  '-sEXPORT_NAME=createSimdnetWasm',
  // The host passes the bytes (instantiateWasm in lib/backend/wasm-load.ts): no fetch() or fs in the glue.
  '-sFILESYSTEM=0',
  '-sALLOW_MEMORY_GROWTH=1',
  '-sINITIAL_MEMORY=33554432',
  '-sMAXIMUM_MEMORY=2147483648',
  '-sEXPORTED_FUNCTIONS=_sn_module_init,_sn_call,_sn_external_finalize,_malloc,_free',
  // stackSave/stackRestore: the host resets the stack pointer when a JS exception unwinds through wasm.
  '-sEXPORTED_RUNTIME_METHODS=ENV,stackSave,stackRestore',
  '--js-library',
  path.join(root, 'native', 'wasm', 'napi_host.js'),
];

function env() {
  // Debian's emcc needs its JS dependencies (acorn etc.) on NODE_PATH.
  const nodePath = [process.env.NODE_PATH, '/usr/share/nodejs'].filter(Boolean).join(path.delimiter);
  return { ...process.env, NODE_PATH: nodePath };
}

function sources(variant) {
  const lists = JSON.parse(fs.readFileSync(path.join(root, 'native', 'sources.json'), 'utf8'));
  for (const key of ['common', 'simd128']) {
    if (!Array.isArray(lists[key])) throw new Error(`native/sources.json: "${key}" must be a list of files`);
  }
  return [...lists.common, ...lists.simd128, 'native/wasm/napi_shim.cc', ...variant.sources];
}

// Newest modification time of every header, .inc and shim file under native/, and of this script.
function newestDependency() {
  let newest = fs.statSync(path.join(__dirname, 'build-wasm.js')).mtimeMs;
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (/\.(h|inc|js)$/.test(entry.name)) newest = Math.max(newest, fs.statSync(file).mtimeMs);
    }
  };
  walk(path.join(root, 'native'));
  return newest;
}

function run(args) {
  return new Promise((resolve, reject) => {
    const child = spawn('em++', args, { cwd: root, env: env(), stdio: 'inherit' });
    child.on('error', (err) => reject(new Error(`em++ could not start (is Emscripten installed?): ${err.message}`)));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`em++ failed (exit ${code})`))));
  });
}

async function build(variant) {
  fs.mkdirSync(variant.objDir, { recursive: true });
  const deps = newestDependency();
  const jobs = sources(variant).map((src) => {
    const obj = path.join(variant.objDir, src.replace(/[\\/]/g, '_').replace(/\.cc$/, '.o'));
    const fresh =
      fs.existsSync(obj) && fs.statSync(obj).mtimeMs > Math.max(deps, fs.statSync(path.join(root, src)).mtimeMs);
    return { src, obj, fresh };
  });
  // Two compilers at a time: enough for a small machine, and em++ is mostly single-threaded.
  const queue = jobs.filter((j) => !j.fresh);
  const worker = async () => {
    for (let job = queue.shift(); job; job = queue.shift()) {
      console.log(`em++ ${variant.compile.join(' ')} ${job.src}`);
      await run([...compileFlags, ...variant.compile, '-c', job.src, '-o', job.obj]);
    }
  };
  await Promise.all([worker(), worker()]);
  console.log(`linking build-wasm/${variant.name}.js + ${variant.name}.wasm`);
  await run([...jobs.map((j) => j.obj), ...linkFlags, ...variant.link, '-o', path.join(out, `${variant.name}.js`)]);
}

async function main() {
  try {
    execFileSync('em++', ['--version'], { env: env(), stdio: 'ignore' });
  } catch {
    throw new Error('em++ not found: install Emscripten (Debian: apt-get install emscripten) and retry');
  }
  const only = process.argv.indexOf('--only');
  const names = only < 0 ? Object.keys(variants) : [process.argv[only + 1]];
  for (const name of names) {
    if (!variants[name]) throw new Error(`--only takes ${Object.keys(variants).join(', ')}, got ${name}`);
    await build(variants[name]);
  }
}

main().catch((err) => {
  console.error(`build-wasm: ${err.message}`);
  process.exit(1);
});
