// A Hugging Face model directory: config.json plus model.safetensors, or shards listed by
// model.safetensors.index.json. Tensors are looked up by their HF names.
#ifndef EMBER_FORMAT_HF_DIR_H_
#define EMBER_FORMAT_HF_DIR_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "lib/format/hf_config.h"
#include "lib/format/safetensors.h"

namespace ember {

class HfModelDir {
 public:
  // Reads config.json and opens every shard. Errors name the file: IoError (missing
  // config.json or shard), InvalidModelError (bad index, a shard name that is not a plain
  // file name inside the directory, a tensor in two shards, a tensor the index names but
  // its shard lacks), UnsupportedError (unknown model_type; only pytorch_model.bin).
  // model.safetensors wins over an index when both exist, as in transformers.
  // generation_config.json is optional; when present, a malformed one is an
  // InvalidModelError like config.json.
  static absl::StatusOr<std::unique_ptr<HfModelDir>> Open(const std::string& dir);
  // True if `path` is a directory with a config.json.
  static bool Looks(const std::string& path);

  const HfConfig& config() const { return config_; }
  // generation_config.json if the directory has one, else empty defaults.
  const HfGenerationConfig& generation_config() const { return generation_config_; }
  const std::string& dir() const { return dir_; }
  // nullptr if no shard has that tensor (or it has an unsupported dtype, see GetTensor).
  const TensorView* FindTensor(std::string_view hf_name) const;
  // The tensor's view; UnsupportedError naming shard, tensor and dtype if its dtype (or
  // rank) is one ember cannot compute with; InvalidModelError naming the directory if no
  // shard has it. Model loaders use this for the weights they need.
  absl::StatusOr<const TensorView*> GetTensor(std::string_view hf_name) const;
  // Usable tensors of all shards: shard order, then name order within a shard.
  std::vector<const TensorView*> tensors() const;
  // The safetensors files: model.safetensors alone, or the shards in index order.
  const std::vector<std::unique_ptr<SafetensorsFile>>& shards() const { return shards_; }

 private:
  HfModelDir() = default;
  std::string dir_;
  HfConfig config_;
  HfGenerationConfig generation_config_;
  std::vector<std::unique_ptr<SafetensorsFile>> shards_;
  absl::flat_hash_map<std::string, const TensorView*> index_;
  // Tensors with unsupported dtypes, and the shard holding each.
  absl::flat_hash_map<std::string, const SafetensorsFile*> unsupported_;
};

}  // namespace ember

#endif  // EMBER_FORMAT_HF_DIR_H_
