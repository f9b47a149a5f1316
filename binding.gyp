{
  "variables": {
    "simdnet_common_cflags": ["-O3", "-fno-math-errno", "-fPIC"],
    "simdnet_openmp%": "true"
  },
  "targets": [
    {
      "target_name": "simdnet",
      "sources": [
        "native/binding.cc",
        "native/binding_program.cc",
        "native/binding_norm.cc",
        "native/binding_pool.cc",
        "native/kernels/batchnorm/batchnorm_ref.cc",
        "native/dispatch.cc",
        "native/ops/conv2d_op.cc",
        "native/ops/conv2d_direct_op.cc",
        "native/ops/conv2d_channel_op.cc",
        "native/ops/dense_op.cc",
        "native/ops/pool2d_op.cc",
        "native/ops/program.cc",
        "native/ops/program_graph.cc",
        "native/ops/scratch.cc",
        "native/ops/threads.cc",
        "native/kernels/activation/activation_ref.cc",
        "native/kernels/conv2d/conv2d_ref.cc",
        "native/kernels/conv2d/im2col.cc",
        "native/kernels/dense/dense_ref.cc",
        "native/kernels/gemm/gemm_ref.cc",
        "native/kernels/loss/loss_ref.cc",
        "native/kernels/optim/optim_ref.cc",
        "native/kernels/pool2d/pool2d_2x2.cc",
        "native/kernels/pool2d/pool2d_ref.cc",
        "native/kernels/pool2d/window_mean_ref.cc"
      ],
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
      "msvs_settings": {
        "VCCLCompilerTool": { "ExceptionHandling": 1, "AdditionalOptions": ["/std:c++17"] }
      },
      "conditions": [
        ["OS=='linux' and simdnet_openmp=='true'", {
          "cflags": ["-fopenmp"],
          "ldflags": ["-fopenmp"]
        }],
        ["target_arch=='x64'", {
          "defines": ["SIMDNET_HAVE_X86_KERNELS"],
          "dependencies": ["simdnet_avx2", "simdnet_avx512"]
        }],
        ["target_arch=='arm64'", {
          "defines": ["SIMDNET_HAVE_NEON_KERNELS"],
          "sources": ["native/kernels/gemm/gemm_neon.cc", "native/kernels/conv2d/conv2d_neon.cc",
                      "native/kernels/activation/activation_neon.cc", "native/kernels/optim/optim_neon.cc",
                      "native/kernels/loss/loss_neon.cc"]
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
          "sources": ["native/kernels/gemm/gemm_avx2.cc", "native/kernels/conv2d/conv2d_avx2.cc",
                      "native/kernels/activation/activation_avx2.cc", "native/kernels/optim/optim_avx2.cc",
                      "native/kernels/loss/loss_avx2.cc"],
          "include_dirs": ["native"],
          "cflags!": ["-O2"],
          "cflags_cc!": ["-O2"],
          "cflags": ["<@(simdnet_common_cflags)", "-mavx2", "-mfma"],
          "cflags_cc": ["-std=c++17"],
          "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-mavx2", "-mfma", "-std=c++17", "-O3"] },
          "msvs_settings": { "VCCLCompilerTool": { "AdditionalOptions": ["/arch:AVX2", "/std:c++17"] } }
        },
        {
          "target_name": "simdnet_avx512",
          "type": "static_library",
          "sources": ["native/kernels/gemm/gemm_avx512.cc", "native/kernels/conv2d/conv2d_avx512.cc",
                      "native/kernels/activation/activation_avx512.cc", "native/kernels/optim/optim_avx512.cc",
                      "native/kernels/loss/loss_avx512.cc"],
          "include_dirs": ["native"],
          "cflags!": ["-O2"],
          "cflags_cc!": ["-O2"],
          "cflags": ["<@(simdnet_common_cflags)", "-mavx512f", "-mfma"],
          "cflags_cc": ["-std=c++17"],
          "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-mavx512f", "-mfma", "-std=c++17", "-O3"] },
          "msvs_settings": { "VCCLCompilerTool": { "AdditionalOptions": ["/arch:AVX512", "/std:c++17"] } }
        }
      ]
    }]
  ]
}
