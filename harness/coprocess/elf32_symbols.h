// The dynamic symbol table of an ELF32 shared object in memory: the 32-bit vDSO.
//
// sysgate finds 64-bit vDSO functions through glibc (dlvsym, docs/vdso.md). The ia32
// helper cannot: it is a static -m32 program, with no dynamic loader and so no dlopen or
// dlvsym. It reads the vDSO image the kernel maps at getauxval(AT_SYSINFO_EHDR) itself,
// the way the kernel's tools/testing/selftests/vDSO/parse_vdso.c does: program headers ->
// PT_DYNAMIC -> DT_SYMTAB, DT_STRTAB, DT_HASH (its nchain is the symbol count), and
// DT_VERSYM + DT_VERDEF for the version nodes (LINUX_2.5, LINUX_2.6).
//
// Every offset and count read from the image is checked against the image's size before
// use: a truncated or corrupt image is an error(), never a read out of bounds. Plain code
// with <elf.h>'s fixed-size Elf32_* types, so the 64-bit tests compile it too.
#ifndef SYSGATE_HARNESS_COPROCESS_ELF32_SYMBOLS_H_
#define SYSGATE_HARNESS_COPROCESS_ELF32_SYMBOLS_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sysgate {

class Elf32Symbols {
 public:
  // Parses the image of `size` bytes at `image` (the mapping, not a file: the vDSO is
  // mapped exactly as linked). Never throws; ok() is false and error() says why when the
  // image is not a little-endian ELF32 shared object with a hash table.
  static Elf32Symbols Parse(const unsigned char* image, size_t size);

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  // Where the defined symbol `name` with version `version` ("" = any version) lies, as an
  // offset from the image's first byte (the address is image + offset); nullopt when
  // there is no such symbol.
  std::optional<uint32_t> Find(std::string_view name, std::string_view version) const;

  // Every defined symbol as "name@version" ("name" when unversioned), in table order.
  std::vector<std::string> Names() const;

 private:
  struct Symbol {
    std::string name, version;
    uint32_t offset;
  };
  std::vector<Symbol> symbols_;
  std::string error_;
};

}  // namespace sysgate

#endif  // SYSGATE_HARNESS_COPROCESS_ELF32_SYMBOLS_H_
