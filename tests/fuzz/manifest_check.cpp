#include "manifest_check.h"

#include <string>
#include <vector>

#include "manifest/manifest.h"
#include "manifest/parse_formats.h"
#include "test_catalogue.h"

namespace bricks::fuzz {

namespace mf = bricks::manifest;

void check_manifest(const uint8_t* data, size_t size, ManifestFormat format) {
  static const host::Catalogue catalogue = mf::test_support::test_catalogue();
  const std::string text(reinterpret_cast<const char*>(data), size);
  mf::LoadedManifest m;
  // A directory that does not exist: relative paths in the manifest name no real file.
  m.file = format == ManifestFormat::kJson ? "/nonexistent-bricks-fuzz/m.json"
                                           : "/nonexistent-bricks-fuzz/m.textproto";
  std::vector<mf::Diagnostic> diags;
  const bool parsed =
      format == ManifestFormat::kJson
          ? mf::parse_json_manifest(text, m.file.string(), m.proto, m.locations, diags)
          : mf::parse_text_manifest(text, m.file.string(), m.proto, m.locations, diags);
  if (!parsed) return;
  (void)mf::validate_manifest(m, catalogue, diags);
  (void)mf::manifest_plugin_paths(m);
  (void)mf::manifest_pins(m);
  mf::sort_diagnostics(diags);
  for (const mf::Diagnostic& d : diags) (void)d.format();
}

}  // namespace bricks::fuzz
