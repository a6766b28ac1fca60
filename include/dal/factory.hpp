// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
#pragma once
/// \file
/// The run-time factory, for when configuration chooses the backend (the Python design's
/// `DatabaseFactory.create_database("sqlite", config)`):
///
///     #include <dal/sqlite.hpp>             // linking a backend makes it available
///     dal::any_connection db = dal::connect("sqlite:///tmp/app.db");
///     db.execute("INSERT INTO [t] ([v]) VALUES (?)", 42);
///     for (auto row : db.query("SELECT [v] FROM [t]")) std::cout << row.get<int>("v");
///
/// `any_connection` is type-erased: one virtual call per statement (never per row), results
/// materialised in a `rowset`, SQL translated at run time. Code that knows its backend at
/// compile time should use `basic_connection` directly.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <dal/backend.hpp>
#include <dal/config.hpp>
#include <dal/rowset.hpp>
#include <dal/value.hpp>

namespace dal {

struct call_options;

class any_connection {
public:
    /// The interface each backend's connection is wrapped in.
    struct interface {
        interface() = default;
        interface(const interface&) = delete;
        interface& operator=(const interface&) = delete;
        interface(interface&&) = delete;
        interface& operator=(interface&&) = delete;
        virtual ~interface() = default;
        virtual rowset run(std::string_view portable_sql, std::span<const param_ref> params) = 0;
        virtual void begin() = 0;
        virtual void commit() = 0;
        virtual void rollback() = 0;
        [[nodiscard]] virtual bool in_transaction() const noexcept = 0;
        [[nodiscard]] virtual server_info info() const = 0;
        virtual void ping() = 0;
        [[nodiscard]] virtual bool is_open() const noexcept = 0;
        virtual void close() noexcept = 0;
        [[nodiscard]] virtual const config& configuration() const noexcept = 0;
    };

    explicit any_connection(std::unique_ptr<interface> impl) noexcept : impl_(std::move(impl)) {}

    /// Runs portable SQL built at run time; returns all rows (and the changed-row count).
    template <class... Args>
    rowset query(std::string_view portable_sql, const Args&... args) {
        const bound_params<Args...> params(args...);
        return impl_->run(portable_sql, params.refs());
    }
    template <class... Args>
    std::uint64_t execute(std::string_view portable_sql, const Args&... args) {
        return query(portable_sql, args...).affected_rows();
    }
    /// Every row as `T` (value, tuple or reflected struct).
    template <class T, class... Args>
    std::vector<T> query_as(std::string_view portable_sql, const Args&... args) {
        const rowset rs = query(portable_sql, args...);
        std::vector<T> out;
        out.reserve(rs.size());
        for (const auto r : rs)
            out.push_back(r.template as<T>());
        return out;
    }

    /// Transactions nest as SAVEPOINTs, as on basic_connection.
    void begin() { impl_->begin(); }
    void commit() { impl_->commit(); }
    void rollback() { impl_->rollback(); }
    /// Runs `f(*this)` in the open transaction, or in a new one committed when `f` returns and
    /// rolled back when it throws.
    template <class F>
    decltype(auto) with_transaction(F&& f) {
        if (impl_->in_transaction()) return f(*this);
        impl_->begin();
        try {
            if constexpr (std::is_void_v<std::invoke_result_t<F&, any_connection&>>) {
                f(*this);
                impl_->commit();
            } else {
                auto r = f(*this);
                impl_->commit();
                return r;
            }
        } catch (...) {
            if (impl_->in_transaction()) impl_->rollback();
            throw;
        }
    }
    [[nodiscard]] bool in_transaction() const noexcept { return impl_->in_transaction(); }
    [[nodiscard]] server_info info() const { return impl_->info(); }
    void ping() { impl_->ping(); }
    [[nodiscard]] bool is_open() const noexcept { return impl_->is_open(); }
    void close() noexcept { impl_->close(); }
    [[nodiscard]] const config& configuration() const noexcept { return impl_->configuration(); }

private:
    std::unique_ptr<interface> impl_;
};

/// Makes a connection of one backend from a config.
using connection_factory = std::unique_ptr<any_connection::interface> (*)(const config&);

/// Registers the factory of a backend; returns true. Later registrations replace earlier ones.
bool register_backend_factory(backend_kind kind, connection_factory factory) noexcept;

namespace detail {
template <class Connection>
class any_model final : public any_connection::interface {
public:
    explicit any_model(const config& cfg) : conn_(cfg) {}
    rowset run(std::string_view sql, std::span<const param_ref> params) override {
        return conn_.query_rows_with({}, sql, params);
    }
    void begin() override { open_.push_back(conn_.begin()); }
    void commit() override {
        require_open_transaction();
        open_.back().commit();
        open_.pop_back();
    }
    void rollback() override {
        require_open_transaction();
        auto tx = std::move(open_.back());
        open_.pop_back();
        tx.rollback();
    }
    [[nodiscard]] bool in_transaction() const noexcept override { return conn_.in_transaction(); }
    [[nodiscard]] server_info info() const override { return conn_.info(); }
    void ping() override { conn_.ping(); }
    [[nodiscard]] bool is_open() const noexcept override { return conn_.is_open(); }
    void close() noexcept override {
        open_.clear();
        conn_.close();
    }
    [[nodiscard]] const config& configuration() const noexcept override {
        return conn_.configuration();
    }

private:
    void require_open_transaction() const;
    Connection conn_;
    std::vector<typename Connection::transaction> open_;
};
[[noreturn]] void throw_no_transaction();
template <class Connection>
void any_model<Connection>::require_open_transaction() const {
    if (open_.empty()) throw_no_transaction();
}
}  // namespace detail

/// Registers `Connection` (a basic_connection instantiation) as the factory for `kind`.
template <class Connection>
bool register_backend(backend_kind kind) noexcept {
    return register_backend_factory(
        kind, [](const config& cfg) -> std::unique_ptr<any_connection::interface> {
            return std::make_unique<detail::any_model<Connection>>(cfg);
        });
}

/// Opens a connection to the database a URI names. Throws dal::error: invalid URI, backend not
/// linked into this program (client_errc::backend_unavailable), or the connect failure.
[[nodiscard]] any_connection connect(std::string_view uri);
/// Same with the backend named ("sqlite", "postgresql", "mysql"...) and a config built in code;
/// the name wins over `cfg.backend`.
[[nodiscard]] any_connection connect(std::string_view backend_name, config cfg);

}  // namespace dal
