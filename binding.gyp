{
  "targets": [
    {
      "target_name": "simdnet",
      "sources": [
        "native/binding.cc",
        "native/dispatch.cc",
        "native/kernels/activation/activation_ref.cc",
        "native/kernels/conv2d/conv2d_ref.cc",
        "native/kernels/dense/dense_ref.cc",
        "native/kernels/loss/loss_ref.cc",
        "native/kernels/optim/optim_ref.cc",
        "native/kernels/pool2d/pool2d_ref.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "native"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions", "-O2"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-O2"],
      "cflags": ["-O3"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "GCC_OPTIMIZATION_LEVEL": "3",
        "MACOSX_DEPLOYMENT_TARGET": "10.15"
      },
      "msvs_settings": {
        "VCCLCompilerTool": { "ExceptionHandling": 1, "AdditionalOptions": ["/std:c++17"] }
      }
    }
  ]
}
