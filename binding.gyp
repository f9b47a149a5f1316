# The addon for Linux and macOS with GCC or Clang (the kernels use GCC vector extensions and
# __builtin_cpu_supports; there is no MSVC build). Source lists: native/sources.json, shared with
# the other builds. One static library per x86 ISA gives those files their own flags.
{
  "variables": {
    "simdnet_common_cflags": ["-O3", "-fno-math-errno", "-fPIC"],
    "simdnet_openmp%": "true"
  },
  "targets": [
    {
      "target_name": "simdnet",
      "sources": ["<!@(node -p \"require('./native/sources.json').common.join(' ')\")"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "native"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions", "-O2"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-O2"],
      "cflags": ["<@(simdnet_common_cflags)"],
      "cflags_cc": ["-std=c++17", "-fexceptions"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "GCC_OPTIMIZATION_LEVEL": "3",
        "MACOSX_DEPLOYMENT_TARGET": "10.15"
      },
      "conditions": [
        ["OS=='linux' and simdnet_openmp=='true'", {
          "cflags": ["-fopenmp"],
          "ldflags": ["-fopenmp"]
        }],
        ["target_arch=='x64'", {
          "defines": ["SIMDNET_HAVE_X86_KERNELS"],
          "dependencies": ["simdnet_avx2", "simdnet_avx512"],
          # batchnorm_impl.inc's 8-lane values in the SSE2 reference build: GCC's note that passing them by value
          # would change the ABI (they stay inside that file's inlined helpers).
          "cflags": ["-Wno-psabi"]
        }],
        ["target_arch=='arm64'", {
          "defines": ["SIMDNET_HAVE_NEON_KERNELS"],
          "sources": ["<!@(node -p \"require('./native/sources.json').neon.join(' ')\")"]
        }]
      ]
    }
  ],
  "conditions": [
    ["target_arch=='x64'", {
      "targets": [
        {
          "target_name": "simdnet_avx2",
          "type": "static_library",
          "sources": ["<!@(node -p \"require('./native/sources.json').avx2.join(' ')\")"],
          "include_dirs": ["native"],
          "cflags!": ["-O2"],
          "cflags_cc!": ["-O2"],
          "cflags": ["<@(simdnet_common_cflags)", "-mavx2", "-mfma"],
          "cflags_cc": ["-std=c++17"],
          "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-mavx2", "-mfma", "-std=c++17", "-O3"] }
        },
        {
          "target_name": "simdnet_avx512",
          "type": "static_library",
          "sources": ["<!@(node -p \"require('./native/sources.json').avx512.join(' ')\")"],
          "include_dirs": ["native"],
          "cflags!": ["-O2"],
          "cflags_cc!": ["-O2"],
          "cflags": ["<@(simdnet_common_cflags)", "-mavx512f", "-mfma"],
          "cflags_cc": ["-std=c++17"],
          "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-mavx512f", "-mfma", "-std=c++17", "-O3"] }
        }
      ]
    }]
  ]
}
