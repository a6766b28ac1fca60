// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
// Compiled once into dal::dal (see CMakeLists.txt); not a public header.

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>
#ifdef __linux__
#include <sys/resource.h>
#include <unistd.h>
#endif

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include <dal/connection.hpp>
#include <dal/detail/async_io.hpp>
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
/// An io_context run by threads of dal's own, from first use to the end of the process.
struct owned_io {
    boost::asio::io_context ctx;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{
        ctx.get_executor()};
    std::vector<std::thread> threads;
    /// `nice` above 0: the threads run below normal CPU priority (Linux applies a nice value
    /// to the calling thread alone; a failure leaves it at normal priority, only slower for
    /// the others).
    owned_io(unsigned n, int nice) : ctx(static_cast<int>(n)) {
        threads.reserve(n);
        for (unsigned k = 0; k < n; ++k)
            threads.emplace_back([this, nice] {
#ifdef __linux__
                if (nice > 0)
                    (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), nice);
#endif
                ctx.run();
            });
    }
    owned_io(const owned_io&) = delete;
    owned_io& operator=(const owned_io&) = delete;
    ~owned_io() {
        work.reset();
        ctx.stop();
        for (std::thread& t : threads)
            t.join();
    }
};
}  // namespace

boost::asio::any_io_executor shared_io_executor() {
    // One thread, for async calls whose handler brings no executor.
    static owned_io io(1, 0);
    return io.ctx.get_executor();
}

boost::asio::any_io_executor connector_executor() {
    // Pools' connects; why below normal priority: dal/connection.hpp, dal/pool.hpp.
    static owned_io io(std::max(2U, std::thread::hardware_concurrency() / 4), connector_nice);
    return io.ctx.get_executor();
}

// ---- statement deadlines ------------------------------------------------------------------

namespace {
/// The process's deadline thread. It sleeps until the earliest armed deadline; arming a later
/// one does not wake it (it looks again when it wakes), so a steady stream of statements with
/// the usual limits costs no system call at all. When a deadline passes it posts the fire
/// callback to that statement's io_context, under the lock, so that a watchdog detached
/// afterwards (its io_context may then go away) is never posted to.
class deadline_service {
public:
    using clock = std::chrono::steady_clock;

    /// Never destroyed: connections may be closed by other static objects' destructors at
    /// exit (a pool in the global registry, which is created before the first statement arms
    /// this, and so would be destroyed after it), and they detach their watchdogs here. The
    /// thread sleeps until the process ends.
    static deadline_service& instance() {
        static auto* const s = new deadline_service();  // NOLINT(cppcoreguidelines-owning-memory)
        return *s;
    }
    deadline_service(const deadline_service&) = delete;
    deadline_service& operator=(const deadline_service&) = delete;
    deadline_service(deadline_service&&) = delete;
    deadline_service& operator=(deadline_service&&) = delete;
    ~deadline_service() = delete;

    std::mutex& mutex() noexcept { return mutex_; }

    /// Under the lock.
    void enqueue_locked(const std::shared_ptr<watch_entry>& e, deadline d) {
        dequeue_locked(*e);
        e->when = d;
        ++e->seq;
        e->pos = queue_.emplace(d, e);
        e->queued = true;
        if (d < sleeps_until_) {
            sleeps_until_ = d;
            wake_ = true;
        }
    }
    void dequeue_locked(watch_entry& e) noexcept {
        if (!e.queued) return;
        queue_.erase(e.pos);
        e.queued = false;
    }
    /// After unlocking: wakes the thread when the new deadline is earlier than its sleep.
    void wake_if_needed(std::unique_lock<std::mutex>& lk) {
        const bool wake = std::exchange(wake_, false);
        lk.unlock();
        if (wake) cv_.notify_one();
    }

private:
    deadline_service() : thread_([this] { run(); }) {}

    void run() {
        std::unique_lock lk(mutex_);
        while (true) {
            const auto now = clock::now();
            while (!queue_.empty() && queue_.begin()->first <= now) {
                const std::shared_ptr<watch_entry> e = queue_.begin()->second;
                queue_.erase(queue_.begin());
                e->queued = false;
                post_fire(e, e->seq);
            }
            sleeps_until_ = queue_.empty() ? deadline::max() : queue_.begin()->first;
            if (sleeps_until_ == deadline::max())
                cv_.wait(lk, [this] { return sleeps_until_ != deadline::max(); });
            else
                cv_.wait_until(lk, sleeps_until_);
        }
    }
    static void post_fire(const std::shared_ptr<watch_entry>& e, std::uint64_t seq) {
        try {
            boost::asio::post(e->ex, [e, seq] {
                void* owner = nullptr;
                void (*fire)(void*) = nullptr;
                {
                    const std::lock_guard lk(instance().mutex());
                    if (e->owner == nullptr || e->seq != seq) return;  // detached, re-armed
                    owner = e->owner;
                    fire = e->fire;
                }
                fire(owner);
            });
        } catch (...) {  // NOLINT(bugprone-empty-catch): no memory for the handler; the
                         // server-side limit still ends the statement
        }
    }

    std::mutex mutex_;
    std::condition_variable cv_;
    watch_queue queue_;
    deadline sleeps_until_ = deadline::max();
    bool wake_ = false;
    std::thread thread_;
};
}  // namespace

void statement_watchdog::arm(const boost::asio::any_io_executor& ex, deadline d) {
    deadline_service& svc = deadline_service::instance();
    std::unique_lock lk(svc.mutex());
    if (!entry_) {
        entry_ = std::make_shared<watch_entry>();
        entry_->owner = owner_;
        entry_->fire = fire_;
    }
    entry_->ex = ex;
    svc.enqueue_locked(entry_, d);
    svc.wake_if_needed(lk);
}

void statement_watchdog::rearm(deadline d) {
    if (!entry_) return;
    deadline_service& svc = deadline_service::instance();
    std::unique_lock lk(svc.mutex());
    if (entry_->owner == nullptr) return;
    svc.enqueue_locked(entry_, d);
    svc.wake_if_needed(lk);
}

void statement_watchdog::disarm() noexcept {
    if (!entry_) return;
    deadline_service& svc = deadline_service::instance();
    const std::lock_guard lk(svc.mutex());
    svc.dequeue_locked(*entry_);
    ++entry_->seq;  // a firing already posted is void
}

void statement_watchdog::detach() noexcept {
    if (!entry_) return;
    {
        deadline_service& svc = deadline_service::instance();
        const std::lock_guard lk(svc.mutex());
        svc.dequeue_locked(*entry_);
        entry_->owner = nullptr;
        ++entry_->seq;
        entry_->ex = boost::asio::any_io_executor();  // no reference to the io_context kept
    }
    entry_.reset();
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
