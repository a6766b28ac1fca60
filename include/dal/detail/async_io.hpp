// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
#pragma once
/// \file
/// What the non-blocking backends (PostgreSQL, MySQL) share to run a driver on Asio: a view of
/// the driver's socket, the timer that enforces an async statement's client-side deadline, and
/// the rule for raising the server-side statement limit. Each backend supplies only what
/// differs: how to stop a running statement, and how to spell the limit in SQL.

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/query.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>

#include <dal/backend.hpp>

namespace dal::detail {

/// Same io_context, so the same reactor: executors may differ in properties (work tracking)
/// per call and still share one registration.
[[nodiscard]] inline bool same_context(const boost::asio::any_io_executor& a,
                                       const boost::asio::any_io_executor& b) {
    return &boost::asio::query(a, boost::asio::execution::context) ==
           &boost::asio::query(b, boost::asio::execution::context);
}

/// A session's server-side statement limit after it was raised to "none".
inline constexpr std::int64_t unlimited_server_limit = std::numeric_limits<std::int64_t>::max();

/// Server-side statement limits (PostgreSQL's statement_timeout, MariaDB's
/// max_statement_time) are set from the configuration when connecting and only ever raised
/// per call: a shorter limit is enforced by the client-side deadline, without a round trip.
/// Returns the limit to set (ms; 0 for none) before a statement with deadline `d`, or nullopt
/// when the session's `current` limit (ms; 0: none set) already allows it. A raised limit ends
/// at least one second after the deadline, so the client's cancel comes first. It is rounded
/// up to whole seconds: otherwise the time spent before this call, which varies, would make
/// two calls with the same limit raise it by a millisecond again and again (an extra SET each
/// time, and one that undoes a limit the caller set on the session).
[[nodiscard]] inline std::optional<std::int64_t> raised_server_limit(
    std::int64_t current, deadline d,
    std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now()) {
    if (current <= 0 || current == unlimited_server_limit) return std::nullopt;
    if (d == deadline::max()) return 0;
    const std::int64_t left = std::chrono::ceil<std::chrono::milliseconds>(d - now).count();
    const std::int64_t wanted = ((std::max<std::int64_t>(left, 0) + 999) / 1000) * 1000 + 1000;
    if (wanted <= current) return std::nullopt;
    return wanted;
}

/// A driver's socket as Asio sees it: a duplicate of the driver's descriptor, owned by the
/// view. The driver may close its own descriptor at any time (a lost connection), and the
/// number may then be reused by another thread's socket; a duplicate keeps what Asio
/// registered with epoll (and later deregisters) the same socket until the view closes it.
/// The view is made again when the driver's descriptor or the io_context changes; the
/// session detaches it before the driver closes its socket, so the duplicate never keeps a
/// connection open.
class socket_view {
public:
    /// The view for the driver's `fd` on `ex`'s io_context (kept registered between
    /// statements).
    boost::asio::posix::stream_descriptor& attach(const boost::asio::any_io_executor& ex, int fd) {
        if (!sd_ || driver_fd_ != fd || !same_context(sd_->get_executor(), ex)) {
            detach();
            const int own = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
            if (own < 0)
                throw boost::system::system_error(
                    boost::system::error_code(errno, boost::system::system_category()),
                    "dal: duplicating the driver's socket");
            try {
                sd_.emplace(ex, own);
            } catch (...) {
                ::close(own);
                throw;
            }
            driver_fd_ = fd;
        }
        return *sd_;
    }
    /// Before the driver closes its socket (or when the io_context changes).
    void detach() noexcept {
        if (!sd_) return;
        boost::system::error_code ignored;
        sd_->close(ignored);  // deregisters and closes the duplicate, never the driver's
        sd_.reset();
        driver_fd_ = -1;
    }
    [[nodiscard]] bool attached() const noexcept { return sd_.has_value(); }
    [[nodiscard]] boost::asio::posix::stream_descriptor& get() noexcept { return *sd_; }
    [[nodiscard]] boost::asio::any_io_executor executor() noexcept { return sd_->get_executor(); }
    /// Makes the pending wait complete with operation_aborted (giving up on a server).
    void cancel() noexcept {
        if (!sd_) return;
        try {
            sd_->cancel();
        } catch (...) {  // NOLINT(bugprone-empty-catch): only a broken reactor fails here
        }
    }

    socket_view() = default;
    socket_view(const socket_view&) = delete;
    socket_view& operator=(const socket_view&) = delete;
    socket_view(socket_view&&) = delete;
    socket_view& operator=(socket_view&&) = delete;
    ~socket_view() { detach(); }

private:
    std::optional<boost::asio::posix::stream_descriptor> sd_;
    int driver_fd_ = -1;
};

struct watch_entry;
/// Armed deadlines in order (the deadline service's queue).
using watch_queue = std::multimap<deadline, std::shared_ptr<watch_entry>>;

/// One armed deadline of a statement_watchdog. Every field is guarded by the deadline
/// service's mutex (the service thread, the session's thread and the io_context all read it).
struct watch_entry {
    void* owner = nullptr;  ///< null once the watchdog is detached
    void (*fire)(void* owner) = nullptr;
    boost::asio::any_io_executor ex;  ///< where `fire` runs
    deadline when = deadline::max();
    bool queued = false;        ///< in the service's queue
    std::uint64_t seq = 0;      ///< bumped by every arm and disarm: a stale firing is ignored
    watch_queue::iterator pos;  ///< its place in the queue, when queued
};

/// The client-side deadline of a session's async statements. One thread per process keeps
/// every armed deadline in order and, when one passes, posts `fire(owner)` to the io_context
/// of the statement; the owner may `rearm` it from there (a grace period). Arming and
/// disarming take a lock and touch an ordered queue: unlike an Asio timer per session, they
/// make no system call per statement (a timerfd update each time), post no completion when a
/// statement ends in time, and hold no work that would keep the io_context from running out.
class statement_watchdog {
public:
    using fire_fn = void (*)(void* owner);

    statement_watchdog(void* owner, fire_fn fire) noexcept : owner_(owner), fire_(fire) {}
    statement_watchdog(const statement_watchdog&) = delete;
    statement_watchdog& operator=(const statement_watchdog&) = delete;
    statement_watchdog(statement_watchdog&&) = delete;
    statement_watchdog& operator=(statement_watchdog&&) = delete;
    ~statement_watchdog() { detach(); }

    /// Fires at `d` on `ex`'s io_context (unless disarmed first).
    void arm(const boost::asio::any_io_executor& ex, deadline d);
    /// From the fire callback: fire again at `d`, on the same io_context.
    void rearm(deadline d);
    /// The statement is over.
    void disarm() noexcept;
    /// The session is closing, or lets go of its io_context: the callback never runs again
    /// (not even one already posted).
    void detach() noexcept;

private:
    void* owner_;
    fire_fn fire_;
    std::shared_ptr<watch_entry> entry_;
};

}  // namespace dal::detail
