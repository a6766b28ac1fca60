// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
// Compiled once into dal::dal (see CMakeLists.txt); not a public header.

#include <array>
#include <atomic>
#include <string>

#include <dal/error.hpp>
#include <dal/factory.hpp>

namespace dal {
namespace {

std::array<std::atomic<connection_factory>, 3>& factories() noexcept {
    static std::array<std::atomic<connection_factory>, 3> table{};
    return table;
}

}  // namespace

bool register_backend_factory(backend_kind kind, connection_factory factory) noexcept {
    factories()[static_cast<std::size_t>(kind)].store(factory, std::memory_order_release);
    return true;
}

namespace {

any_connection make(const config& cfg) {
    const connection_factory f =
        factories()[static_cast<std::size_t>(cfg.backend)].load(std::memory_order_acquire);
    if (f == nullptr) {
        const std::string name(to_string(cfg.backend));
        throw error(
            make_error_code(client_errc::backend_unavailable),
            "the " + name + " backend is not linked into this program: include <dal/" +
                (name == "postgresql" ? std::string("postgres") : name) +
                ".hpp> and link dal::" + (name == "postgresql" ? std::string("postgres") : name));
    }
    return any_connection(f(cfg));
}

}  // namespace

any_connection connect(std::string_view uri) {
    return make(config::from_uri(uri));
}

any_connection connect(std::string_view backend_name, config cfg) {
    const auto kind = parse_backend_kind(backend_name);
    if (!kind)
        throw error(make_error_code(client_errc::invalid_config),
                    "unknown backend '" + std::string(backend_name) +
                        "': expected postgresql, mysql or sqlite");
    cfg.backend = *kind;
    return make(cfg);
}

namespace detail {
void throw_no_transaction() {
    throw error(make_error_code(client_errc::not_in_transaction),
                "commit or rollback without an open transaction");
}
}  // namespace detail

}  // namespace dal
