// Structured input: templates, CIDR blocks and parameter overrides built by FuzzedDataProvider
// and run through libcaf_orch's template validation, CIDR arithmetic and `apply_parameters`.
// Checks the properties callers rely on: a block that parses prints back to text that parses
// to the same block, containment and overlap agree with each other, every refusal names a
// field, and applying parameters to a valid template yields a valid template or says why not.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <fuzzer/FuzzedDataProvider.h>

#include "fuzz_support.hpp"
#include "orch/cidr.hpp"
#include "orch/deployment/model.hpp"
#include "orch/errc.hpp"
#include "orch/template_validation.hpp"

namespace {

// Short strings drawn from the words validation cares about, or arbitrary bytes.
std::string pick_name(FuzzedDataProvider& in) {
  static const std::array<const char*, 8> words{"web", "db", "app", "a", "web-1", "Web", "", "_x"};
  if (in.ConsumeBool()) return words[in.ConsumeIntegralInRange<std::size_t>(0, words.size() - 1)];
  return in.ConsumeRandomLengthString(40);
}

// A CIDR-ish text: often a printed block near a common prefix, sometimes raw bytes.
std::string pick_cidr_text(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange(0, 3)) {
    case 0: return in.ConsumeRandomLengthString(48);
    case 1: {
      std::string out;
      for (int i = 0; i < 4; ++i) {
        if (i > 0) out += '.';
        out += std::to_string(in.ConsumeIntegralInRange(0, 300));
      }
      return out + "/" + std::to_string(in.ConsumeIntegralInRange(-1, 40));
    }
    case 2: {
      std::string out;
      auto groups = in.ConsumeIntegralInRange(1, 8);
      for (int i = 0; i < groups; ++i) {
        if (i > 0) out += in.ConsumeBool() ? ":" : "::";
        if (in.ConsumeBool())
          out += std::to_string(in.ConsumeIntegralInRange(0, 0xffff));
        else
          out += "fd00";
      }
      return out + "/" + std::to_string(in.ConsumeIntegralInRange(0, 130));
    }
    default:
      return "10." + std::to_string(in.ConsumeIntegralInRange(0, 3)) + "."
             + std::to_string(in.ConsumeIntegralInRange(0, 3)) + ".0/"
             + std::to_string(in.ConsumeIntegralInRange(8, 30));
  }
}

// A canonical block from raw bits: family, address bytes, prefix, host bits cleared.
orch::cidr pick_block(FuzzedDataProvider& in) {
  orch::cidr out;
  out.family = in.ConsumeBool() ? orch::ip_family::v6 : orch::ip_family::v4;
  auto bits = out.family == orch::ip_family::v4 ? 32 : 128;
  out.prefix = in.ConsumeIntegralInRange(0, bits);
  for (int i = 0; i < bits / 8; ++i) out.address[i] = in.ConsumeIntegral<std::uint8_t>();
  for (int bit = out.prefix; bit < bits; ++bit)
    out.address[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
  return out;
}

void check_block_round_trips(const orch::cidr& block) {
  auto text = orch::to_string(block);
  auto again = orch::parse_cidr(text);
  if (!again) {
    std::fprintf(stderr, "printed block does not parse: %s\n", text.c_str());
    std::abort();
  }
  ORCH_FUZZ_ASSERT(*again == block);
  ORCH_FUZZ_ASSERT(orch::to_string(*again) == text);
}

void check_pair(const orch::cidr& a, const orch::cidr& b) {
  ORCH_FUZZ_ASSERT(orch::contains(a, a) && orch::overlaps(a, a));
  ORCH_FUZZ_ASSERT(orch::overlaps(a, b) == orch::overlaps(b, a));
  if (orch::contains(a, b)) ORCH_FUZZ_ASSERT(orch::overlaps(a, b) && a.prefix <= b.prefix);
  if (orch::contains(a, b) && orch::contains(b, a)) ORCH_FUZZ_ASSERT(a == b);
  if (a.family != b.family) ORCH_FUZZ_ASSERT(!orch::overlaps(a, b) && !orch::contains(a, b));
  // Two blocks of one family overlap exactly when one contains the other.
  if (a.family == b.family)
    ORCH_FUZZ_ASSERT(orch::overlaps(a, b) == (orch::contains(a, b) || orch::contains(b, a)));
}

orch::template_spec pick_template(FuzzedDataProvider& in) {
  orch::template_spec spec;
  spec.name = in.ConsumeBool() ? std::string{"web-app-stack"} : in.ConsumeRandomLengthString(70);
  auto groups = in.ConsumeIntegralInRange(0, 4);
  for (int i = 0; i < groups; ++i) {
    orch::vm_group_spec g;
    g.flavor = in.ConsumeBool() ? std::string{"m1.small"} : in.ConsumeRandomLengthString(8);
    g.image = in.ConsumeBool() ? std::string{"ubuntu-22.04"} : in.ConsumeRandomLengthString(8);
    g.count = in.ConsumeBool() ? in.ConsumeIntegralInRange(0, 3) : in.ConsumeIntegral<int>();
    if (in.ConsumeBool())
      g.min_count = in.ConsumeBool() ? in.ConsumeIntegralInRange(0, 3) : in.ConsumeIntegral<int>();
    auto volumes = in.ConsumeIntegralInRange(0, 2);
    for (int v = 0; v < volumes; ++v)
      g.volumes.push_back(
        {in.ConsumeBool() ? 20 : in.ConsumeIntegral<int>(), in.ConsumeRandomLengthString(6)});
    spec.vm_config.emplace_back(pick_name(in), std::move(g));
  }
  spec.network_config.cidr = in.ConsumeBool() ? std::string{"10.0.0.0/16"} : pick_cidr_text(in);
  auto subnets = in.ConsumeIntegralInRange(0, 4);
  for (int i = 0; i < subnets; ++i)
    spec.network_config.subnets.emplace_back(pick_name(in), pick_cidr_text(in));
  spec.network_config.router = in.ConsumeBool();
  if (in.ConsumeBool()) spec.network_config.external_network = in.ConsumeRandomLengthString(10);
  return spec;
}

orch::deployment_parameters pick_parameters(FuzzedDataProvider& in,
                                            const orch::template_spec& spec) {
  static const std::array<const char*, 3> suffixes{"_count", "_flavor", "_image"};
  orch::deployment_parameters params;
  auto n = in.ConsumeIntegralInRange(0, 4);
  for (int i = 0; i < n; ++i) {
    std::string name;
    if (!spec.vm_config.empty() && in.ConsumeBool())
      name
        = spec.vm_config[in.ConsumeIntegralInRange<std::size_t>(0, spec.vm_config.size() - 1)].first
          + suffixes[in.ConsumeIntegralInRange<std::size_t>(0, suffixes.size() - 1)];
    else
      name = in.ConsumeRandomLengthString(20);
    if (in.ConsumeBool())
      params[name] = in.ConsumeBool() ? in.ConsumeIntegralInRange<std::int64_t>(-2, 1002)
                                      : in.ConsumeIntegral<std::int64_t>();
    else
      params[name] = in.ConsumeRandomLengthString(12);
  }
  return params;
}

bool is_known_field(const std::string& field) {
  return field == "name" || field.starts_with("vm_config") || field.starts_with("network_config");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in{data, size};

  // CIDR arithmetic on parsed text and on blocks built from raw bits.
  auto text = pick_cidr_text(in);
  auto parsed = orch::parse_cidr(text);
  if (parsed) {
    // Accepted text is an address and a prefix, nothing else: it goes to Neutron verbatim.
    ORCH_FUZZ_ASSERT(text.find_first_not_of("0123456789abcdefABCDEF:./") == std::string::npos);
    check_block_round_trips(*parsed);
  } else {
    ORCH_FUZZ_ASSERT(!orch::error_detail(parsed.error()).empty());
  }
  auto a = pick_block(in);
  auto b = pick_block(in);
  check_block_round_trips(a);
  check_block_round_trips(b);
  check_pair(a, b);
  if (parsed) check_pair(*parsed, a);

  // Template validation, then parameters on what it accepts.
  auto spec = pick_template(in);
  auto errors = orch::validate_template(spec);
  for (const auto& e : errors) {
    ORCH_FUZZ_ASSERT(is_known_field(e.field));
    ORCH_FUZZ_ASSERT(!e.message.empty());
  }
  if (!errors.empty()) return 0;
  auto params = pick_parameters(in, spec);
  auto applied = orch::apply_parameters(spec, params, orch::template_limits{});
  if (auto* result = std::get_if<orch::template_spec>(&applied)) {
    ORCH_FUZZ_ASSERT(orch::validate_template(*result).empty());
    if (params.empty()) ORCH_FUZZ_ASSERT(orch::is_same_template(*result, spec));
  } else {
    // A bad parameter is named; a count that pushes the template past its size limits is
    // reported on the template's groups.
    for (const auto& e : std::get<std::vector<orch::field_error>>(applied))
      ORCH_FUZZ_ASSERT((e.field.starts_with("parameters.") || e.field == "template.vm_config")
                       && !e.message.empty());
  }
  return 0;
}
