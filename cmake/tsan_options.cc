// Built into the executables of a SAN=thread build only (CMakeLists.txt).
//
// halt_on_error: any report stops the process, so a test cannot pass over
// one (the other sanitizers get -fno-sanitize-recover=all for the same).
//
// The suppressions: Debian's librocksdb is not built with -fsanitize=thread,
// so ThreadSanitizer sees its memory accesses only through the interceptors
// (memcpy, new) and none of its own synchronisation (atomics). A flush on the
// store's background thread and a write on its io thread then look like a
// race inside RocksDB's memtable, which RocksDB documents as safe. Only
// what RocksDB itself does is suppressed: our own accesses stay checked.
extern "C" const char* __tsan_default_options() { return "halt_on_error=1 second_deadlock_stack=1"; }

extern "C" const char* __tsan_default_suppressions() {
  return "called_from_lib:librocksdb.so\n"
         "race:^rocksdb::\n";
}
