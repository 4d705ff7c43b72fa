#include "reference_model.hpp"

#include "model/shard.hpp"

#include <cmath>
#include <string>

namespace lb::ref {

Tensor matmul_xwt(const Tensor& x, const Tensor& w, int64_t T, int64_t k, int64_t n) {
  Tensor y(size_t(T * n), 0.0);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t i = 0; i < k; ++i) s += x[t * k + i] * w[j * k + i];
      y[t * n + j] = s;
    }
  return y;
}

Tensor rms_norm(const Tensor& x, const Tensor& w, int64_t T, int64_t d, double eps) {
  Tensor y(x.size());
  for (int64_t t = 0; t < T; ++t) {
    double ss = 0;
    for (int64_t i = 0; i < d; ++i) ss += x[t * d + i] * x[t * d + i];
    const double scale = 1.0 / std::sqrt(ss / double(d) + eps);
    for (int64_t i = 0; i < d; ++i) y[t * d + i] = x[t * d + i] * scale * w[i];
  }
  return y;
}

void rope(Tensor& x, int64_t T, int64_t row, int64_t col0, int64_t heads, int64_t head_dim,
          const std::vector<int64_t>& positions, double theta) {
  const int64_t half = head_dim / 2;
  for (int64_t t = 0; t < T; ++t)
    for (int64_t h = 0; h < heads; ++h) {
      double* p = &x[t * row + col0 + h * head_dim];
      // rotate_half: out = x * cos + [-x2, x1] * sin, with the angle repeated over both halves.
      Tensor rotated(static_cast<size_t>(head_dim));
      for (int64_t j = 0; j < head_dim; ++j) {
        const double angle = double(positions[t]) * std::pow(theta, -2.0 * double(j % half) / double(head_dim));
        const double partner = j < half ? -p[j + half] : p[j - half];
        rotated[j] = p[j] * std::cos(angle) + partner * std::sin(angle);
      }
      for (int64_t j = 0; j < head_dim; ++j) p[j] = rotated[j];
    }
}

Tensor causal_attention(const Tensor& q, const Tensor& k, const Tensor& v, int64_t T, int64_t Tk, int64_t H,
                        int64_t K, int64_t head_dim, const std::vector<int64_t>& positions) {
  Tensor out(size_t(T * H * head_dim), 0.0);
  const int64_t group = H / K;
  for (int64_t t = 0; t < T; ++t)
    for (int64_t h = 0; h < H; ++h) {
      const int64_t kh = h / group;
      const int64_t last = std::min(positions[t], Tk - 1);
      Tensor score(size_t(last + 1));
      double mx = -INFINITY;
      for (int64_t p = 0; p <= last; ++p) {
        double s = 0;
        for (int64_t j = 0; j < head_dim; ++j) s += q[t * H * head_dim + h * head_dim + j] * k[p * K * head_dim + kh * head_dim + j];
        score[p] = s / std::sqrt(double(head_dim));
        mx = std::max(mx, score[p]);
      }
      double denom = 0;
      for (double& s : score) denom += (s = std::exp(s - mx));
      for (int64_t p = 0; p <= last; ++p)
        for (int64_t j = 0; j < head_dim; ++j)
          out[t * H * head_dim + h * head_dim + j] += score[p] / denom * v[p * K * head_dim + kh * head_dim + j];
    }
  return out;
}

Tensor silu_mul(const Tensor& gu, int64_t T, int64_t f) {
  Tensor y(size_t(T * f));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t j = 0; j < f; ++j) {
      const double g = gu[t * 2 * f + j];
      y[t * f + j] = g / (1 + std::exp(-g)) * gu[t * 2 * f + f + j];
    }
  return y;
}

namespace {

Tensor full(const WeightSource& src, const std::string& name, std::vector<int64_t> shape) {
  const int64_t rows = shape.size() == 1 ? 1 : shape[0], cols = shape.back();
  std::vector<real> buf(size_t(rows * cols));
  src.read(name, Block{shape, 0, rows, 0, cols}, buf.data());
  return Tensor(buf.begin(), buf.end());
}

void add(Tensor& x, const Tensor& y) {
  for (size_t i = 0; i < x.size(); ++i) x[i] += y[i];
}

}  // namespace

Tensor model_logits(const ModelConfig& c, const WeightSource& src, const std::vector<int32_t>& tokens, Variant v,
                    int tp) {
  const int64_t T = int64_t(tokens.size()), d = c.hidden_size, dh = c.head_dim(), H = c.num_heads,
                K = c.num_kv_heads, F = c.intermediate_size, V = c.vocab_size;
  std::vector<int64_t> positions(static_cast<size_t>(T));
  for (int64_t t = 0; t < T; ++t) positions[t] = t;
  const Tensor embed = full(src, "model.embed_tokens.weight", {V, d});
  Tensor x(size_t(T * d));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < d; ++i) x[t * d + i] = embed[tokens[t] * d + i];

  // A rank's partial output keeps only its own heads' (or MLP columns') inputs to the row-parallel
  // projection: [c0, c1) of `cols` columns; all of them for the unsharded model.
  const auto keep_columns = [&](Tensor& a, int64_t cols, int64_t c0, int64_t c1) {
    for (int64_t t = 0; t < T; ++t)
      for (int64_t j = 0; j < cols; ++j)
        if (j < c0 || j >= c1) a[t * cols + j] = 0;
  };
  const auto attention_part = [&](int64_t l, const Tensor& in, int64_t h0, int64_t h1) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    const Tensor h = rms_norm(in, full(src, p + "input_layernorm.weight", {d}), T, d, c.rms_norm_eps);
    Tensor q = matmul_xwt(h, full(src, p + "self_attn.q_proj.weight", {H * dh, d}), T, d, H * dh);
    Tensor k = matmul_xwt(h, full(src, p + "self_attn.k_proj.weight", {K * dh, d}), T, d, K * dh);
    const Tensor vv = matmul_xwt(h, full(src, p + "self_attn.v_proj.weight", {K * dh, d}), T, d, K * dh);
    rope(q, T, H * dh, 0, H, dh, positions, c.rope_theta);
    rope(k, T, K * dh, 0, K, dh, positions, c.rope_theta);
    Tensor a = causal_attention(q, k, vv, T, T, H, K, dh, positions);
    keep_columns(a, H * dh, h0 * dh, h1 * dh);
    return matmul_xwt(a, full(src, p + "self_attn.o_proj.weight", {d, H * dh}), T, H * dh, d);
  };
  const auto attention = [&](int64_t l, const Tensor& in) { return attention_part(l, in, 0, H); };
  const auto mlp_normed_part = [&](int64_t l, const Tensor& h, int64_t f0, int64_t f1) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    const Tensor g = matmul_xwt(h, full(src, p + "mlp.gate_proj.weight", {F, d}), T, d, F);
    const Tensor u = matmul_xwt(h, full(src, p + "mlp.up_proj.weight", {F, d}), T, d, F);
    Tensor gu(static_cast<size_t>(T * 2 * F));
    for (int64_t t = 0; t < T; ++t)
      for (int64_t j = 0; j < F; ++j) {
        gu[t * 2 * F + j] = g[t * F + j];
        gu[t * 2 * F + F + j] = u[t * F + j];
      }
    Tensor act = silu_mul(gu, T, F);
    keep_columns(act, F, f0, f1);
    return matmul_xwt(act, full(src, p + "mlp.down_proj.weight", {d, F}), T, F, d);
  };
  const auto mlp_normed = [&](int64_t l, const Tensor& h) { return mlp_normed_part(l, h, 0, F); };
  const auto mlp_part = [&](int64_t l, const Tensor& in, int64_t f0, int64_t f1) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    return mlp_normed_part(l, rms_norm(in, full(src, p + "post_attention_layernorm.weight", {d}), T, d, c.rms_norm_eps),
                           f0, f1);
  };
  const auto mlp = [&](int64_t l, const Tensor& in) { return mlp_part(l, in, 0, F); };

  if (v == Variant::Ladder) {
    // r_i = r_{i-1} + h_i(r_{i-2}): every module reads the stream from two modules back.
    Tensor r_prev = x, r = x;  // r_{i-2}, r_{i-1}; both the embedding before the first module
    for (int64_t i = 0; i < 2 * c.num_layers; ++i) {
      const Tensor h = i % 2 == 0 ? attention(i / 2, r_prev) : mlp(i / 2, r_prev);
      Tensor next = r;
      add(next, h);
      r_prev = r;
      r = next;
    }
    x = r;
  } else if (v == Variant::HybridLadder) {
    // Spec section 5, layer by layer. standard: a = x + Attn(N1(x)); m = a + MLP(N2(a)).
    // ladder: a = x + Attn(N1(prev_a)); m = a + MLP(N2(x)), prev_a = the previous layer's a.
    Tensor prev_a = x;
    for (int64_t l = 0; l < c.num_layers; ++l) {
      const bool ladder = l >= c.num_layers - c.hybrid_ladder_layers();
      Tensor a = x;
      add(a, attention(l, ladder ? prev_a : x));
      Tensor m = a;
      add(m, mlp(l, ladder ? x : a));
      prev_a = a;
      x = m;
    }
  } else if (v == Variant::Parallel) {
    // x = x + Attn(h) + MLP(h) with h = the shared norm (input_layernorm) of x.
    for (int64_t l = 0; l < c.num_layers; ++l) {
      const std::string p = "model.layers." + std::to_string(l) + ".";
      const Tensor mlp_out = mlp_normed(l, rms_norm(x, full(src, p + "input_layernorm.weight", {d}), T, d, c.rms_norm_eps));
      const Tensor attn_out = attention(l, x);
      add(x, attn_out);
      add(x, mlp_out);
    }
  } else if (v == Variant::Desync && tp > 1) {
    // gpt_desync, rank by rank: a kept all-reduce makes every stream sum_r (partial_r + x_r / P); a
    // dropped one adds rank r's partial to its own stream. Kept: the MLP's as the pattern says, and
    // always the last layer's (written out here rather than asked of Schedule).
    std::vector<Tensor> xs(size_t(tp), x);
    const auto kept = [&](int64_t l) {
      if (l == c.num_layers - 1) return true;
      switch (c.desync_pattern) {
        case DesyncPattern::Default: return true;
        case DesyncPattern::Every2: return l % 2 == 1;
        case DesyncPattern::Infinite: return false;
      }
      return true;
    };
    for (int64_t l = 0; l < c.num_layers; ++l) {
      for (int r = 0; r < tp; ++r) {  // attention: always dropped
        const Shard s = Shard::of(c, r, tp);
        add(xs[r], attention_part(l, xs[r], s.head0, s.head0 + s.heads));
      }
      std::vector<Tensor> partial(static_cast<size_t>(tp));
      for (int r = 0; r < tp; ++r) {
        const Shard s = Shard::of(c, r, tp);
        partial[r] = mlp_part(l, xs[r], s.ff0, s.ff0 + s.ff);
      }
      if (kept(l)) {
        Tensor sum(x.size(), 0.0);
        for (int r = 0; r < tp; ++r)
          for (size_t i = 0; i < sum.size(); ++i) sum[i] += partial[r][i] + xs[r][i] / tp;
        for (Tensor& xr : xs) xr = sum;
      } else {
        for (int r = 0; r < tp; ++r) add(xs[r], partial[r]);
      }
    }
    x = xs[0];  // the last layer's MLP all-reduce made every stream the same
  } else {  // standard (and desync at one rank); the upper bound is the same function at one rank
    for (int64_t l = 0; l < c.num_layers; ++l) {
      add(x, attention(l, x));
      add(x, mlp(l, x));
    }
  }
  const Tensor last(x.end() - d, x.end());
  const Tensor n = rms_norm(last, full(src, "model.norm.weight", {d}), 1, d, c.rms_norm_eps);
  return matmul_xwt(n, full(src, "lm_head.weight", {V, d}), 1, d, V);
}

}  // namespace lb::ref
