// Linked into every harness: the sanitizer settings a plain replay (`<harness> <file>`) needs
// too. UBSAN_OPTIONS in the environment adds to these.

#ifndef ORCH_FUZZ_UBSAN_SUPPRESSIONS
#error "ORCH_FUZZ_UBSAN_SUPPRESSIONS must name tests/fuzz/ubsan.supp"
#endif

extern "C" const char* __ubsan_default_options() {
  return "halt_on_error=1:print_stacktrace=1:suppressions=" ORCH_FUZZ_UBSAN_SUPPRESSIONS;
}
