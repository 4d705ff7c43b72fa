#include "bench/prompt_ids.hpp"

#include "core/errors.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>

namespace lb {
namespace {

std::string read_all(const std::string& path, const std::string& flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError(flag + " " + path + ": cannot read the file");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void check_id(int64_t id, int64_t vocab, const std::string& where) {
  if (id < 0 || id >= vocab)
    throw UserError(where + ": token id " + std::to_string(id) + " is outside the vocabulary [0, " + std::to_string(vocab) + ")");
}

// `same_length`: every line is one prompt of a batch (--prompt-ids); else the lines are read as one
// stream (--eval-tokens), and `batch`/`length` count lines and the longest.
PromptIds parse_text(const std::string& text, const std::string& path, int64_t vocab, const std::string& flag,
                     bool same_length) {
  PromptIds p;
  std::istringstream lines(text);
  std::string line;
  for (int64_t number = 1; std::getline(lines, line); ++number) {
    const std::string where = flag + " " + path + " line " + std::to_string(number);
    for (char& ch : line)
      if (ch == ',') ch = ' ';
    std::istringstream fields(line);
    std::vector<int32_t> row;
    std::string field;
    while (fields >> field) {
      size_t used = 0;
      long long id = -1;
      try {
        id = std::stoll(field, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != field.size()) throw UserError(where + ": \"" + field + "\" is not an integer token id");
      check_id(id, vocab, where);
      row.push_back(int32_t(id));
    }
    if (row.empty()) continue;  // blank lines separate nothing
    if (same_length && p.batch > 0 && int64_t(row.size()) != p.length)
      throw UserError(where + ": " + std::to_string(row.size()) + " ids, the lines before have " + std::to_string(p.length) +
                      " (every prompt of a batch has the same length)");
    p.length = std::max(p.length, int64_t(row.size()));
    p.ids.insert(p.ids.end(), row.begin(), row.end());
    ++p.batch;
  }
  if (p.batch == 0) throw UserError(flag + " " + path + ": no token ids in the file");
  return p;
}

// The .npy format (numpy.lib.format): magic, version, a little-endian header length (2 bytes in
// version 1, 4 after), a Python dict literal {'descr', 'fortran_order', 'shape'}, the data.
PromptIds parse_npy(const std::string& blob, const std::string& path, int64_t vocab, const std::string& flag) {
  const std::string where = flag + " " + path;
  if (blob.size() < 10 || blob.compare(0, 6, "\x93NUMPY") != 0) throw UserError(where + ": not a .npy file (bad magic)");
  const int major = static_cast<unsigned char>(blob[6]);
  const size_t len_bytes = major == 1 ? 2 : 4;
  if (blob.size() < 8 + len_bytes) throw UserError(where + ": truncated .npy header");
  size_t header_len = 0;
  for (size_t i = 0; i < len_bytes; ++i) header_len |= size_t(static_cast<unsigned char>(blob[8 + i])) << (8 * i);
  const size_t data0 = 8 + len_bytes + header_len;
  if (blob.size() < data0) throw UserError(where + ": truncated .npy header");
  const std::string header = blob.substr(8 + len_bytes, header_len);
  std::smatch m;
  if (!std::regex_search(header, m, std::regex("'descr':\\s*'([<>|=])([iu])([1248])'")))
    throw UserError(where + ": .npy 'descr' must be a little-endian integer type, header " + header);
  const bool is_signed = m[2] == "i";
  const size_t es = size_t(std::stoi(m[3]));
  if (m[1] == ">" && es > 1) throw UserError(where + ": .npy data is big-endian; save it little-endian");
  if (!std::regex_search(header, std::regex("'fortran_order':\\s*False")))
    throw UserError(where + ": .npy 'fortran_order' must be False (a C-ordered array)");
  if (!std::regex_search(header, m, std::regex("'shape':\\s*\\(\\s*(\\d+)\\s*,\\s*(\\d*)\\s*\\)")))
    throw UserError(where + ": .npy 'shape' must be [B, P] or [P], header " + header);
  PromptIds p;
  p.batch = m[2].length() ? std::stoll(m[1]) : 1;
  p.length = m[2].length() ? std::stoll(m[2]) : std::stoll(m[1]);
  if (p.batch <= 0 || p.length <= 0 || p.batch > (int64_t(1) << 20) || p.length > (int64_t(1) << 24))
    throw UserError(where + ": .npy shape must have 1 to 2^20 prompts of 1 to 2^24 ids");
  const size_t n = size_t(p.batch * p.length);
  if (blob.size() != data0 + n * es) throw UserError(where + ": .npy data size does not match its shape");
  for (size_t i = 0; i < n; ++i) {
    uint64_t u = 0;
    for (size_t b = 0; b < es; ++b) u |= uint64_t(static_cast<unsigned char>(blob[data0 + i * es + b])) << (8 * b);
    int64_t id = int64_t(u);
    if (is_signed && es < 8 && (u >> (8 * es - 1)) & 1) id = int64_t(u) - (int64_t(1) << (8 * es));  // sign-extend
    check_id(id, vocab, where + " element " + std::to_string(i));
    p.ids.push_back(int32_t(id));
  }
  return p;
}

}  // namespace

PromptIds read_prompt_ids(const std::string& path, int64_t vocab) {
  const std::string flag = "--prompt-ids", blob = read_all(path, flag);
  return blob.compare(0, 6, "\x93NUMPY") == 0 ? parse_npy(blob, path, vocab, flag)
                                               : parse_text(blob, path, vocab, flag, true);
}

std::vector<int32_t> read_token_stream(const std::string& path, int64_t vocab) {
  const std::string flag = "--eval-tokens", blob = read_all(path, flag);
  return (blob.compare(0, 6, "\x93NUMPY") == 0 ? parse_npy(blob, path, vocab, flag)
                                                : parse_text(blob, path, vocab, flag, false)).ids;
}

void apply_prompt_ids(const PromptIds& p, BenchOptions& o) {
  const std::string file = "--prompt-ids " + o.prompt_ids + " (" + std::to_string(p.batch) + " prompts of " +
                           std::to_string(p.length) + " ids)";
  if (o.batch_given && (o.batches.size() != 1 || o.batches[0] != p.batch))
    throw UserError("--batch does not match " + file + "; leave it out to take the batch from the file");
  if (o.prompt_len_given && (o.prompt_lens.size() != 1 || o.prompt_lens[0] != p.length))
    throw UserError("--prompt-len does not match " + file + "; leave it out to take it from the file");
  o.batches = {p.batch};
  o.prompt_lens = {p.length};
}

}  // namespace lb
