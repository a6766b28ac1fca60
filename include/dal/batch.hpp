// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
#pragma once
/// \file
/// `dal::batch`: several statements sent together. On PostgreSQL they go out in libpq's
/// pipeline mode (one round trip for all); on backends without pipelining they run one after
/// another. Either way the semantics are PostgreSQL's: statements run in order, each in its
/// own implicit transaction unless a transaction is open, and after the first failure the
/// rest are reported `not_executed`, never silently dropped.
///
///     dal::batch b;
///     for (int id : ids) b.add("SELECT [name] FROM [users] WHERE [id] = ?"_sql, id);
///     for (const dal::batch_result& r : db.execute_batch(b))
///         if (r.ok()) use(r.rows);
///
/// Arguments are copied into the batch when added, so it can be built and run later.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <dal/error.hpp>
#include <dal/rowset.hpp>
#include <dal/sql/query.hpp>
#include <dal/value.hpp>

namespace dal {

/// What became of one statement of a batch.
struct batch_result {
    enum class state : std::uint8_t { ok, failed, not_executed };
    state status = state::not_executed;
    std::uint64_t affected = 0;    ///< rows changed (INSERT/UPDATE/DELETE)
    rowset rows;                   ///< rows returned (SELECT, RETURNING)
    std::optional<error> failure;  ///< the error (failed) or why it did not run
    [[nodiscard]] bool ok() const noexcept { return status == state::ok; }
};

class batch {
public:
    /// Adds a statement in the portable dialect with its arguments (copied).
    template <class Sql, class... Args>
    batch& add(const Sql& sql, const Args&... args) {
        entry e;
        if constexpr (sql::is_literal_v<Sql>)
            e.portable = std::string(Sql::text);
        else
            e.portable = std::string(std::string_view(sql));
        e.params.reserve(sizeof...(Args));
        (add_param(e, bind_holder<Args>(args).ref()), ...);
        entries_.push_back(std::move(e));
        return *this;
    }
    [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }
    [[nodiscard]] bool empty() const noexcept { return entries_.empty(); }
    void clear() noexcept { entries_.clear(); }

    /// One statement: its portable SQL and its arguments, owning their bytes.
    struct entry {
        std::string portable;
        std::vector<param_ref> params;  ///< text/blob views point into `storage`
        std::vector<std::string> storage;
        /// The views, valid while the entry is alive and unchanged.
        [[nodiscard]] std::vector<param_ref> refs() const {
            std::vector<param_ref> out = params;
            std::size_t s = 0;
            for (param_ref& p : out)
                if (p.type == param_ref::kind::text || p.type == param_ref::kind::binary)
                    p.bytes = storage[s++];
            return out;
        }
    };
    [[nodiscard]] std::span<const entry> entries() const noexcept { return entries_; }

private:
    static void add_param(entry& e, param_ref p) {
        if (p.type == param_ref::kind::text || p.type == param_ref::kind::binary)
            e.storage.emplace_back(p.bytes);
        p.bytes = {};
        e.params.push_back(p);
    }
    std::vector<entry> entries_;
};

}  // namespace dal
