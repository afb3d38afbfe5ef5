#include "lib/format/hf_dir.h"

#include <set>
#include <utility>

#include "lib/base/errors.h"
#include "lib/base/mapped_file.h"
#include "lib/base/platform.h"
#include "lib/format/json_text.h"

namespace ember {
namespace {

using nlohmann::json;

// config.json is about 1 KB and a 70B model's index about 100 KB; anything far larger is
// not what it claims to be.
constexpr size_t kMaxConfigBytes = size_t{16} << 20;
constexpr size_t kMaxIndexBytes = size_t{64} << 20;

constexpr char kConfigName[] = "config.json";
constexpr char kGenerationConfigName[] = "generation_config.json";
constexpr char kSingleName[] = "model.safetensors";
constexpr char kIndexName[] = "model.safetensors.index.json";

std::string JoinPath(const std::string& dir, std::string_view name) {
  return absl::StrCat(dir, "/", AV(name));
}

// Follows symlinks: the Hugging Face cache links snapshot files to blobs elsewhere.
bool IsFile(const std::string& path) { return PathKindOf(path) == PathKind::kRegularFile; }

absl::StatusOr<std::string> ReadSmallFile(const std::string& path, size_t max_bytes) {
  EMBER_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> file, MappedFile::Open(path));
  if (file->size() > max_bytes) {
    return InvalidModelError(
        absl::StrCat(path, ": ", file->size(), " bytes, more than the ", max_bytes, " allowed"));
  }
  return std::string(reinterpret_cast<const char*>(file->data()), file->size());
}

// Shard names come from a file that may be hostile: only a plain name of a file inside the
// directory is accepted, never a path ("../x", "/etc/x", "sub/x").
bool IsPlainFileName(std::string_view name) {
  return !name.empty() && name != "." && name != ".." &&
         name.find_first_of(std::string_view("/\\\0", 3)) == std::string_view::npos;
}

// model.safetensors.index.json: {"metadata": {...}, "weight_map": {tensor: shard file}}.
absl::Status ParseIndex(const std::string& path, absl::flat_hash_map<std::string, std::string>* weight_map,
                        std::set<std::string>* shard_names) {
  EMBER_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path, kMaxIndexBytes));
  EMBER_ASSIGN_OR_RETURN(json index, ParseJsonText(text, path));
  if (!index.is_object()) {
    return InvalidModelError(absl::StrCat(path, ": expected a JSON object, got ", JsonTypeName(index)));
  }
  auto map_it = index.find("weight_map");
  if (map_it == index.end() || !map_it->is_object()) {
    return InvalidModelError(absl::StrCat(path, ": \"weight_map\" must be an object"));
  }
  if (map_it->empty()) return InvalidModelError(absl::StrCat(path, ": \"weight_map\" is empty"));
  for (const auto& [tensor, shard] : map_it->items()) {
    if (!shard.is_string()) {
      return InvalidModelError(absl::StrCat(path, ": tensor '", tensor, "': shard must be a string, got ",
                                            JsonTypeName(shard)));
    }
    const std::string& name = shard.get_ref<const std::string&>();
    if (!IsPlainFileName(name)) {
      return InvalidModelError(absl::StrCat(path, ": tensor '", tensor, "': shard \"", name,
                                            "\" is not a file name inside the model directory"));
    }
    (*weight_map)[tensor] = name;
    shard_names->insert(name);
  }
  return absl::OkStatus();
}

}  // namespace

bool HfModelDir::Looks(const std::string& path) {
  return PathKindOf(path) == PathKind::kDirectory && IsFile(JoinPath(path, kConfigName));
}

absl::StatusOr<std::unique_ptr<HfModelDir>> HfModelDir::Open(const std::string& dir_arg) {
  std::string dir = dir_arg;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (PathKindOf(dir) != PathKind::kDirectory) {
    return IoError(absl::StrCat(dir, ": not a directory"));
  }
  std::unique_ptr<HfModelDir> m(new HfModelDir());
  m->dir_ = dir;

  const std::string config_path = JoinPath(dir, kConfigName);
  EMBER_ASSIGN_OR_RETURN(std::string config_text, ReadSmallFile(config_path, kMaxConfigBytes));
  EMBER_ASSIGN_OR_RETURN(m->config_, ParseHfConfig(config_text, config_path));
  const std::string generation_path = JoinPath(dir, kGenerationConfigName);
  if (IsFile(generation_path)) {
    EMBER_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(generation_path, kMaxConfigBytes));
    EMBER_ASSIGN_OR_RETURN(m->generation_config_,
                           ParseHfGenerationConfig(text, generation_path, m->config_.vocab_size));
  }

  // Which files hold the weights, and (sharded) which tensor each shard should hold.
  std::set<std::string> shard_names;
  absl::flat_hash_map<std::string, std::string> weight_map;
  const std::string index_path = JoinPath(dir, kIndexName);
  if (IsFile(JoinPath(dir, kSingleName))) {
    shard_names.insert(kSingleName);
  } else if (IsFile(index_path)) {
    EMBER_RETURN_IF_ERROR(ParseIndex(index_path, &weight_map, &shard_names));
  } else if (IsFile(JoinPath(dir, "pytorch_model.bin")) ||
             IsFile(JoinPath(dir, "pytorch_model.bin.index.json"))) {
    return UnsupportedError(absl::StrCat(dir, ": has only PyTorch pickle weights (pytorch_model.bin); "
                                         "ember reads safetensors"));
  } else {
    return IoError(absl::StrCat(dir, ": no ", kSingleName, " or ", kIndexName));
  }

  // Every tensor lives in exactly one shard.
  absl::flat_hash_map<std::string, const SafetensorsFile*> owner;
  auto claim = [&](const std::string& name, const SafetensorsFile* shard) -> absl::Status {
    auto [it, inserted] = owner.emplace(name, shard);
    if (!inserted) {
      return InvalidModelError(absl::StrCat(dir, ": tensor '", name, "' is in two shards: ",
                                            it->second->path(), " and ", shard->path()));
    }
    return absl::OkStatus();
  };
  for (const std::string& name : shard_names) {
    EMBER_ASSIGN_OR_RETURN(std::unique_ptr<SafetensorsFile> shard,
                           SafetensorsFile::Open(JoinPath(dir, name)));
    for (const TensorView& t : shard->tensors()) {
      EMBER_RETURN_IF_ERROR(claim(t.name, shard.get()));
      m->index_[t.name] = &t;
    }
    for (const UnsupportedTensor& t : shard->unsupported_tensors()) {
      EMBER_RETURN_IF_ERROR(claim(t.name, shard.get()));
      m->unsupported_[t.name] = shard.get();
    }
    m->shards_.push_back(std::move(shard));
  }

  for (const auto& [tensor, shard_name] : weight_map) {
    auto it = owner.find(tensor);
    const std::string shard_path = JoinPath(dir, shard_name);
    if (it == owner.end() || it->second->path() != shard_path) {
      return InvalidModelError(absl::StrCat(index_path, ": tensor '", tensor, "' is listed in ",
                                            shard_name, " but ", shard_path, " does not have it"));
    }
  }
  return m;
}

const TensorView* HfModelDir::FindTensor(std::string_view hf_name) const {
  auto it = index_.find(AV(hf_name));
  return it == index_.end() ? nullptr : it->second;
}

absl::StatusOr<const TensorView*> HfModelDir::GetTensor(std::string_view hf_name) const {
  if (const TensorView* t = FindTensor(hf_name)) return t;
  auto it = unsupported_.find(AV(hf_name));
  if (it != unsupported_.end()) return it->second->GetTensor(hf_name);
  return InvalidModelError(absl::StrCat(dir_, ": no shard has tensor '", AV(hf_name), "'"));
}

std::vector<const TensorView*> HfModelDir::tensors() const {
  std::vector<const TensorView*> out;
  out.reserve(index_.size());
  for (const auto& shard : shards_) {
    for (const TensorView& t : shard->tensors()) out.push_back(&t);
  }
  return out;
}

}  // namespace ember
