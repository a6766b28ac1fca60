// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
#pragma once
/// \file
/// PostgreSQL errors: SQLSTATE codes as `std::error_code`s of the "dal.postgres" category,
/// mapped onto dal's portable conditions (40001 -> serialization_failure, 40P01 -> deadlock,
/// 23xxx -> constraint_violation, 08xxx -> connection_error, ...). The server's message,
/// detail and hint travel in `dal::diagnostics`.

#include <string>
#include <string_view>
#include <system_error>

namespace dal::postgres {

/// Packs a five-character SQLSTATE into an int, six bits a character, as PostgreSQL's own
/// MAKE_SQLSTATE does: the int is the error_code value. Returns 0 for malformed input.
[[nodiscard]] constexpr int pack_sqlstate(std::string_view s) noexcept {
    if (s.size() != 5) return 0;
    int v = 0;
    for (int k = 4; k >= 0; --k) {
        const char c = s[static_cast<std::size_t>(k)];
        const bool ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
        if (!ok) return 0;
        v = (v << 6) | ((c - '0') & 0x3F);
    }
    return v;
}

/// The five characters back from a packed value.
[[nodiscard]] std::string unpack_sqlstate(int code);

/// The "dal.postgres" category: values are packed SQLSTATEs.
[[nodiscard]] const std::error_category& sqlstate_category() noexcept;

/// An error_code for a SQLSTATE as the server sent it ("40P01"). A missing or malformed one
/// becomes XX000 (internal_error): an error must never turn into a false error_code.
[[nodiscard]] inline std::error_code make_sqlstate_error(std::string_view sqlstate) noexcept {
    const int packed = pack_sqlstate(sqlstate);
    return {packed != 0 ? packed : pack_sqlstate("XX000"), sqlstate_category()};
}

/// Version of the libpq that dal was linked with, e.g. "15.18".
[[nodiscard]] std::string driver_version();

}  // namespace dal::postgres
