#include "harness/coprocess/elf32_symbols.h"

#include <elf.h>

#include <cstring>

namespace sysgate {
namespace {

// A bounds-checked view of the image: every read says how many bytes it needs at which
// offset, in 64-bit arithmetic so no sum of 32-bit fields can wrap.
class Image {
 public:
  Image(const unsigned char* data, size_t size) : data_(data), size_(size) {}

  bool Has(uint64_t offset, uint64_t bytes) const {
    return offset <= size_ && bytes <= size_ - offset;
  }
  // A copy of the T at `offset` (memcpy: the image need not be aligned for T).
  template <typename T>
  std::optional<T> Read(uint64_t offset) const {
    if (!Has(offset, sizeof(T))) return std::nullopt;
    T value;
    std::memcpy(&value, data_ + offset, sizeof(T));
    return value;
  }
  // The NUL-terminated string at `offset` inside [table, table + table_size).
  std::optional<std::string> String(uint64_t table, uint64_t table_size, uint64_t offset) const {
    if (!Has(table, table_size) || offset >= table_size) return std::nullopt;
    const char* start = reinterpret_cast<const char*>(data_ + table + offset);
    const size_t len = strnlen(start, table_size - offset);
    if (len == table_size - offset) return std::nullopt;  // not terminated inside the table
    return std::string(start, len);
  }
  size_t size() const { return size_; }

 private:
  const unsigned char* data_;
  size_t size_;
};

// Version nodes are few (the vDSO has two or three); a chain longer than this is corrupt.
constexpr int kMaxVersions = 64;

}  // namespace

Elf32Symbols Elf32Symbols::Parse(const unsigned char* data, size_t size) {
  Elf32Symbols out;
  auto fail = [&out](std::string why) {
    out.symbols_.clear();
    out.error_ = std::move(why);
    return out;
  };
  const Image image(data, size);
  auto ehdr = image.Read<Elf32_Ehdr>(0);
  if (!ehdr || std::memcmp(ehdr->e_ident, ELFMAG, SELFMAG) != 0) return fail("not an ELF image");
  if (ehdr->e_ident[EI_CLASS] != ELFCLASS32)
    return fail("not an ELF32 image (ELF class " + std::to_string(ehdr->e_ident[EI_CLASS]) + ")");
  if (ehdr->e_ident[EI_DATA] != ELFDATA2LSB) return fail("not a little-endian ELF image");
  if (ehdr->e_type != ET_DYN)
    return fail("not a shared object (e_type " + std::to_string(ehdr->e_type) + ")");
  if (ehdr->e_phentsize != sizeof(Elf32_Phdr)) return fail("unexpected program header size");

  // The load bias: vaddr - bias = offset into the image (the first PT_LOAD maps the file
  // from offset 0 for the vDSO, but nothing here relies on that).
  std::optional<Elf32_Phdr> load, dynamic;
  for (uint32_t i = 0; i < ehdr->e_phnum; ++i) {
    auto ph = image.Read<Elf32_Phdr>(uint64_t{ehdr->e_phoff} + uint64_t{i} * sizeof(Elf32_Phdr));
    if (!ph) return fail("program header " + std::to_string(i) + " lies outside the image");
    if (ph->p_type == PT_LOAD && !load) load = ph;
    if (ph->p_type == PT_DYNAMIC) dynamic = ph;
  }
  if (!load) return fail("no PT_LOAD segment");
  if (!dynamic) return fail("no PT_DYNAMIC segment");
  if (load->p_vaddr < load->p_offset) return fail("PT_LOAD below its file offset");
  const uint64_t bias = load->p_vaddr - load->p_offset;
  auto to_offset = [bias](uint64_t vaddr) -> std::optional<uint64_t> {
    if (vaddr < bias) return std::nullopt;
    return vaddr - bias;
  };

  uint64_t strtab = 0, strsz = 0, symtab = 0, hash = 0, versym = 0, verdef = 0;
  bool have_strtab = false, have_symtab = false, have_hash = false;
  bool have_versym = false, have_verdef = false;
  const uint64_t dyn_count = dynamic->p_filesz / sizeof(Elf32_Dyn);
  for (uint64_t i = 0; i < dyn_count; ++i) {
    auto dyn = image.Read<Elf32_Dyn>(uint64_t{dynamic->p_offset} + i * sizeof(Elf32_Dyn));
    if (!dyn) return fail("dynamic entry " + std::to_string(i) + " lies outside the image");
    if (dyn->d_tag == DT_NULL) break;
    const uint64_t value = dyn->d_un.d_val;
    auto offset = [&](uint64_t* slot, bool* have) {
      if (auto off = to_offset(value)) {
        *slot = *off;
        *have = true;
      }
    };
    switch (dyn->d_tag) {
      case DT_STRTAB:
        offset(&strtab, &have_strtab);
        break;
      case DT_SYMTAB:
        offset(&symtab, &have_symtab);
        break;
      case DT_HASH:
        offset(&hash, &have_hash);
        break;
      case DT_VERSYM:
        offset(&versym, &have_versym);
        break;
      case DT_VERDEF:
        offset(&verdef, &have_verdef);
        break;
      case DT_STRSZ:
        strsz = value;
        break;
      default:
        break;
    }
  }
  if (!have_strtab || !have_symtab) return fail("no DT_STRTAB or DT_SYMTAB");
  if (!image.Has(strtab, strsz)) return fail("the string table lies outside the image");
  // The symbol count: nchain of the SysV hash table (the kernel links the vDSO with
  // --hash-style=both, so DT_HASH is there; counting through DT_GNU_HASH is not needed).
  if (!have_hash) return fail("no DT_HASH (needed for the symbol count)");
  auto nbucket = image.Read<Elf32_Word>(hash);
  auto nchain = image.Read<Elf32_Word>(hash + 4);
  if (!nbucket || !nchain) return fail("the hash table lies outside the image");
  if (!image.Has(symtab, uint64_t{*nchain} * sizeof(Elf32_Sym))) {
    return fail("the symbol table (" + std::to_string(*nchain) +
                " symbols) lies outside the image");
  }
  if (have_versym && !image.Has(versym, uint64_t{*nchain} * sizeof(Elf32_Half))) {
    return fail("the version table lies outside the image");
  }

  // Version index -> name, from the chain of Elf32_Verdef records.
  std::map<uint32_t, std::string> versions;
  if (have_verdef) {
    uint64_t at = verdef;
    for (int n = 0;; ++n) {
      if (n == kMaxVersions) return fail("the version definitions do not end");
      auto vd = image.Read<Elf32_Verdef>(at);
      if (!vd) return fail("a version definition lies outside the image");
      if (vd->vd_version != VER_DEF_CURRENT) return fail("unknown version definition format");
      // The first aux entry names the version itself (later ones its parents).
      auto aux = image.Read<Elf32_Verdaux>(at + vd->vd_aux);
      if (!aux) return fail("a version name lies outside the image");
      auto name = image.String(strtab, strsz, aux->vda_name);
      if (!name) return fail("a version name lies outside the string table");
      if (!(vd->vd_flags & VER_FLG_BASE)) versions[vd->vd_ndx & 0x7fff] = *name;
      if (vd->vd_next == 0) break;
      at += vd->vd_next;
    }
  }

  for (uint32_t i = 1; i < *nchain; ++i) {  // symbol 0 is the undefined symbol
    auto sym = image.Read<Elf32_Sym>(symtab + uint64_t{i} * sizeof(Elf32_Sym));
    if (!sym) return fail("symbol " + std::to_string(i) + " lies outside the image");
    const int type = ELF32_ST_TYPE(sym->st_info);
    // Undefined and absolute symbols (the version nodes LINUX_2.5, LINUX_2.6 are absolute
    // objects at 0) are not code in the image.
    if (sym->st_shndx == SHN_UNDEF || sym->st_shndx == SHN_ABS ||
        (type != STT_FUNC && type != STT_OBJECT && type != STT_NOTYPE)) {
      continue;
    }
    auto name = image.String(strtab, strsz, sym->st_name);
    if (!name)
      return fail("the name of symbol " + std::to_string(i) + " lies outside the string table");
    auto offset = to_offset(sym->st_value);
    if (!offset || *offset >= image.size())
      continue;  // absolute or outside the image: not code here
    std::string version;
    if (have_versym) {
      auto index = image.Read<Elf32_Half>(versym + uint64_t{i} * sizeof(Elf32_Half));
      if (auto it = versions.find(*index & 0x7fff); it != versions.end()) version = it->second;
    }
    out.symbols_.push_back({*name, version, static_cast<uint32_t>(*offset)});
  }
  return out;
}

std::optional<uint32_t> Elf32Symbols::Find(std::string_view name, std::string_view version) const {
  for (const Symbol& s : symbols_) {
    if (s.name == name && (version.empty() || s.version == version)) return s.offset;
  }
  return std::nullopt;
}

std::vector<std::string> Elf32Symbols::Names() const {
  std::vector<std::string> names;
  for (const Symbol& s : symbols_)
    names.push_back(s.version.empty() ? s.name : s.name + "@" + s.version);
  return names;
}

}  // namespace sysgate
