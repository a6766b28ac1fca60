// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
// Compiled once into dal::dal (see CMakeLists.txt); not a public header.

#include <algorithm>
#include <string>
#include <thread>
#include <utility>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include <dal/connection.hpp>
#include <dal/error.hpp>

namespace dal::detail {

namespace {

/// sqlcommenter's encoding: URL-encode, then escape single quotes.
void append_encoded(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    for (const char ch : s) {
        const auto u = static_cast<unsigned char>(ch);
        const bool plain = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') ||
                           (u >= '0' && u <= '9') || u == '-' || u == '.' || u == '_' || u == '~';
        if (plain) {
            out += ch;
        } else {
            out += '%';
            out += hex[u >> 4];
            out += hex[u & 0xF];
        }
    }
}

}  // namespace

std::string sql_comment(const std::vector<std::pair<std::string, std::string>>& tags) {
    if (tags.empty()) return {};
    auto sorted = tags;
    std::sort(sorted.begin(), sorted.end());
    // Percent-encoding leaves no '*' or '/' in keys or values, so the comment cannot be closed
    // early, and no quote, so nothing can escape into the SQL.
    std::string out = " /*";
    for (std::size_t k = 0; k < sorted.size(); ++k) {
        if (k != 0) out += ',';
        append_encoded(out, sorted[k].first);
        out += "='";
        append_encoded(out, sorted[k].second);
        out += '\'';
    }
    out += "*/";
    return out;
}

boost::asio::thread_pool& blocking_pool() {
    static boost::asio::thread_pool pool(std::max(2U, std::thread::hardware_concurrency()));
    return pool;
}

namespace {
/// One io_context on one thread, for async calls whose handler brings no executor.
struct shared_io {
    boost::asio::io_context ctx{1};
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{
        ctx.get_executor()};
    std::thread thread{[this] { ctx.run(); }};
    shared_io() = default;
    shared_io(const shared_io&) = delete;
    shared_io& operator=(const shared_io&) = delete;
    ~shared_io() {
        work.reset();
        ctx.stop();
        thread.join();
    }
};
}  // namespace

boost::asio::any_io_executor shared_io_executor() {
    static shared_io io;
    return io.ctx.get_executor();
}

void throw_circuit_open(std::chrono::milliseconds retry_in) {
    throw error(make_error_code(client_errc::circuit_open),
                "the circuit breaker is open: calls fail at once for now; next probe in " +
                    std::to_string(retry_in.count()) + " ms");
}

void throw_broken() {
    throw error(make_error_code(client_errc::connection_broken),
                "the connection broke in an earlier call (see that call's error); a RetryPolicy "
                "that allows it reopens it, else open a new one");
}

void throw_commit_unknown(const error& cause) {
    diagnostics d = cause.diag();
    d.message =
        "the connection broke while COMMIT was in flight, so the transaction may or may "
        "not have committed; check before running it again (" +
        (d.message.empty() ? std::string(cause.code().message()) : d.message) + ")";
    throw error(make_error_code(client_errc::commit_outcome_unknown), std::move(d));
}

void throw_transaction_lost(const error* cause) {
    diagnostics d = cause != nullptr ? cause->diag() : diagnostics{};
    const std::string why = cause == nullptr ? std::string("it broke in an earlier call")
                            : cause->diag().message.empty() ? std::string(cause->code().message())
                                                            : cause->diag().message;
    d.message =
        "the connection broke inside a transaction before COMMIT was sent, so the server rolled "
        "the whole transaction back and none of it was committed; run the whole transaction "
        "again (with_transaction does when its RetryPolicy allows) (" +
        why + ")";
    throw error(make_error_code(client_errc::transaction_lost), std::move(d));
}

void throw_not_open() {
    throw error(make_error_code(client_errc::connection_closed),
                "the connection is closed: open a new one");
}

void throw_transaction_order(std::string_view what) {
    throw error(make_error_code(client_errc::not_in_transaction), std::string(what));
}

}  // namespace dal::detail
