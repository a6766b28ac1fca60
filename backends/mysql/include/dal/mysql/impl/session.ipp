// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
// Compiled once into dal::mysql; not a public header.

#include <poll.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <thread>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include <dal/error.hpp>
#include <dal/mysql/backend.hpp>
#include <dal/mysql/error.hpp>
#include <dal/sql/query.hpp>

namespace dal::detail {
boost::asio::thread_pool& blocking_pool();  // dal/connection.hpp
}

namespace dal::mysql {

namespace {

using clock = std::chrono::steady_clock;

constexpr unsigned er_unsupported_ps = 1295;
constexpr unsigned er_query_interrupted = 1317;
constexpr unsigned er_statement_timeout = 1969;  // MariaDB max_statement_time
constexpr unsigned er_query_timeout = 3024;      // MySQL 8 max_execution_time

[[noreturn]] void bad_option(std::string_view key, std::string_view value,
                             std::string_view expected) {
    throw error(make_error_code(client_errc::invalid_config),
                "MySQL option '" + std::string(key) + "' has value '" + std::string(value) +
                    "', expected " + std::string(expected));
}

error timeout_error(std::string what) {
    diagnostics d;
    d.message = std::move(what);
    return error(make_error_code(client_errc::timeout), std::move(d));
}

bool iequal_word(std::string_view s, std::size_t p, std::string_view word) {
    if (s.size() - p < word.size()) return false;
    for (std::size_t k = 0; k < word.size(); ++k) {
        char c = s[p + k];
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        if (c != word[k]) return false;
    }
    const std::size_t e = p + word.size();
    return e == s.size() || !(std::isalnum(static_cast<unsigned char>(s[e])) || s[e] == '_');
}

/// Skips blanks and comments (/* */, -- , #).
std::size_t skip_blank(std::string_view s, std::size_t p) {
    while (p < s.size()) {
        if (std::isspace(static_cast<unsigned char>(s[p])) != 0) {
            ++p;
        } else if (s.substr(p, 2) == "/*") {
            const auto e = s.find("*/", p + 2);
            p = e == std::string_view::npos ? s.size() : e + 2;
        } else if (s.substr(p, 2) == "--" || s[p] == '#') {
            const auto e = s.find('\n', p);
            p = e == std::string_view::npos ? s.size() : e + 1;
        } else {
            break;
        }
    }
    return p;
}

/// Statements that only read (running one again changes nothing).
bool reads_only(std::string_view sql) {
    std::size_t p = skip_blank(sql, 0);
    while (p < sql.size() && sql[p] == '(')
        p = skip_blank(sql, p + 1);
    for (const std::string_view w : {"SELECT", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "VALUES"}) {
        if (iequal_word(sql, p, w)) return true;
    }
    return false;
}

/// Statements that make MySQL commit the open transaction implicitly (the DDL family).
/// CREATE/DROP TEMPORARY TABLE do not.
bool commits_implicitly(std::string_view sql) {
    std::size_t p = skip_blank(sql, 0);
    for (const std::string_view w :
         {"CREATE", "ALTER", "DROP", "TRUNCATE", "RENAME", "GRANT", "REVOKE"}) {
        if (iequal_word(sql, p, w)) {
            if (w == "CREATE" || w == "DROP") {
                const std::size_t q = skip_blank(sql, p + w.size());
                if (iequal_word(sql, q, "TEMPORARY")) return false;
            }
            return true;
        }
    }
    return false;
}

MYSQL_TIME to_mysql_date(date d) {
    MYSQL_TIME t{};
    t.year = static_cast<unsigned>(static_cast<int>(d.year()));
    t.month = static_cast<unsigned>(d.month());
    t.day = static_cast<unsigned>(d.day());
    t.time_type = MYSQL_TIMESTAMP_DATE;
    return t;
}

MYSQL_TIME to_mysql_datetime(timestamp ts) {
    const auto days = std::chrono::floor<std::chrono::days>(ts);
    MYSQL_TIME t = to_mysql_date(date{days});
    const std::chrono::hh_mm_ss<std::chrono::microseconds> tod{ts - days};
    t.hour = static_cast<unsigned>(tod.hours().count());
    t.minute = static_cast<unsigned>(tod.minutes().count());
    t.second = static_cast<unsigned>(tod.seconds().count());
    t.second_part = static_cast<unsigned long>(tod.subseconds().count());
    t.time_type = MYSQL_TIMESTAMP_DATETIME;
    return t;
}

/// MYSQL_TIME as the text dal's date/timestamp readers take.
void format_time(const MYSQL_TIME& t, enum_field_types type, std::string& out) {
    std::array<char, 64> buf{};
    int n = 0;
    if (type == MYSQL_TYPE_DATE) {
        n = std::snprintf(buf.data(), buf.size(), "%04u-%02u-%02u", t.year, t.month, t.day);
    } else if (type == MYSQL_TYPE_TIME) {
        n = std::snprintf(buf.data(), buf.size(), "%s%02u:%02u:%02u.%06lu", t.neg ? "-" : "",
                          t.hour, t.minute, t.second, t.second_part);
    } else {
        n = std::snprintf(buf.data(), buf.size(), "%04u-%02u-%02u %02u:%02u:%02u.%06lu", t.year,
                          t.month, t.day, t.hour, t.minute, t.second, t.second_part);
    }
    out.assign(buf.data(), static_cast<std::size_t>(std::max(n, 0)));
}

column::decode decoder_for(const MYSQL_FIELD& f) {
    switch (f.type) {
        case MYSQL_TYPE_TINY:
        case MYSQL_TYPE_SHORT:
        case MYSQL_TYPE_LONG:
        case MYSQL_TYPE_INT24:
        case MYSQL_TYPE_YEAR: return column::decode::integer;
        case MYSQL_TYPE_LONGLONG:
            return (f.flags & UNSIGNED_FLAG) != 0 ? column::decode::unsigned_integer
                                                  : column::decode::integer;
        case MYSQL_TYPE_FLOAT:
        case MYSQL_TYPE_DOUBLE: return column::decode::floating;
        case MYSQL_TYPE_DECIMAL:
        case MYSQL_TYPE_NEWDECIMAL: return column::decode::decimal;
        case MYSQL_TYPE_DATE:
        case MYSQL_TYPE_DATETIME:
        case MYSQL_TYPE_TIMESTAMP:
        case MYSQL_TYPE_TIME: return column::decode::temporal;
        case MYSQL_TYPE_BIT: return column::decode::binary;
        default: return f.charsetnr == 63 ? column::decode::binary : column::decode::text;
    }
}

/// Opens a short blocking connection and sends KILL QUERY for `thread_id`.
void kill_query_on(const config& cfg, unsigned long thread_id) noexcept {
    try {
        MYSQL* m = mysql_init(nullptr);
        if (m == nullptr) return;
        const std::unique_ptr<MYSQL, detail::mysql_deleter> guard(m);
        unsigned timeout = 5;
        mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
        mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &timeout);
        mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &timeout);
        const endpoint e = cfg.hosts.empty() ? endpoint{"localhost", 3306} : cfg.hosts.front();
        const std::string pw(cfg.password.reveal());
        if (mysql_real_connect(m, e.host.c_str(), cfg.user.c_str(), pw.c_str(), nullptr,
                               e.port != 0 ? e.port : 3306, nullptr, 0) == nullptr)
            return;
        const std::string sql = "KILL QUERY " + std::to_string(thread_id);
        mysql_real_query(m, sql.c_str(), sql.size());
    } catch (...) {  // NOLINT(bugprone-empty-catch): best effort; the grace period follows
    }
}

/// kill_query_on from a thread of its own: over a stalled network it waits for its own
/// limits (5 s), and nobody waits for it: the statement's wait, bounded by cancel_grace,
/// decides what happens to the connection.
void kill_query_detached(const config& cfg, unsigned long thread_id) noexcept {
    try {
        std::thread([cfg, thread_id] { kill_query_on(cfg, thread_id); }).detach();
    } catch (...) {  // NOLINT(bugprone-empty-catch): no thread: cancel_grace closes the
                     // connection instead
    }
}

}  // namespace

// ---- connecting -----------------------------------------------------------------------------

session::session() = default;

void session::init_library() {
    // A failure is reported by the first connect (mysql_init returns null).
    static const int initialised = mysql_library_init(0, nullptr, nullptr);
    (void)initialised;
}

session::connect_plan session::plan_open(const config& cfg) {
    close();
    cfg_ = cfg;
    allow_ddl_in_transaction_ = false;
    cancel_grace_ = std::chrono::milliseconds{2'000};
    connect_plan p;
    for (const auto& [key, value] : cfg.options) {
        if (key == "ddl_in_transaction") {
            if (value == "reject")
                allow_ddl_in_transaction_ = false;
            else if (value == "allow")
                allow_ddl_in_transaction_ = true;
            else
                bad_option(key, value, "reject or allow");
        } else if (key == "cancel_grace") {
            cancel_grace_ = parse_duration(value, "cancel_grace");
        } else if (key == "charset") {
            p.charset = value;
        } else if (key == "target_role") {
            if (value != "any" && value != "primary" && value != "standby" &&
                value != "prefer_standby")
                bad_option(key, value, "any, primary, standby or prefer_standby");
            p.role = value;
        } else {
            throw error(make_error_code(client_errc::invalid_config),
                        "unknown MySQL option '" + key +
                            "' (known: ddl_in_transaction, cancel_grace, charset, target_role)");
        }
    }
    configured_timeout_ = cfg.timeouts.statement.count();
    p.hosts = cfg.hosts.empty() ? std::vector<endpoint>{{"localhost", 3306}} : cfg.hosts;
    p.until = clock::now() + cfg.timeouts.connect;
    return p;
}

int session::start_connect(const connect_plan& p, const endpoint& e, MYSQL*& ret) {
    mysql_.reset(mysql_init(nullptr));
    if (!mysql_) throw std::bad_alloc();
    MYSQL* m = mysql_.get();
    mysql_options(m, MYSQL_OPT_NONBLOCK, nullptr);
    const auto secs = static_cast<unsigned>(
        std::max<std::int64_t>(1, (cfg_.timeouts.connect.count() + 999) / 1000));
    mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &secs);
    mysql_options(m, MYSQL_SET_CHARSET_NAME, p.charset.c_str());
    const tls_options& tls = cfg_.tls;
    if (tls.mode >= tls_mode::require) {
        const my_bool yes = 1;
        mysql_options(m, MYSQL_OPT_SSL_ENFORCE, &yes);
        if (tls.mode >= tls_mode::verify_ca)
            mysql_options(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &yes);
    }
    if (!tls.ca_file.empty()) mysql_options(m, MYSQL_OPT_SSL_CA, tls.ca_file.c_str());
    if (!tls.cert_file.empty()) mysql_options(m, MYSQL_OPT_SSL_CERT, tls.cert_file.c_str());
    if (!tls.key_file.empty()) mysql_options(m, MYSQL_OPT_SSL_KEY, tls.key_file.c_str());
    if (!tls.crl_file.empty()) mysql_options(m, MYSQL_OPT_SSL_CRL, tls.crl_file.c_str());
    current_sql_ = "(connect)";
    wait_until_ = p.until;
    kill_sent_ = false;
    give_up_ = false;
    connecting_ = true;  // until the host is accepted or dropped: its role check included
    ret = nullptr;
    // CLIENT_FOUND_ROWS: an UPDATE reports the rows it matched, as PostgreSQL and SQLite do,
    // not only those whose values changed. Connector/C keeps the pointers it is given until
    // the connect completes: cfg_ outlives it (no copy of the password either).
    return mysql_real_connect_start(&ret, m, e.host.c_str(), cfg_.user.c_str(),
                                    cfg_.password.reveal().c_str(), cfg_.database.c_str(),
                                    e.port != 0 ? e.port : 3306, nullptr,
                                    CLIENT_FOUND_ROWS | CLIENT_MULTI_RESULTS);
}

void session::drop_handle() noexcept {
    connecting_ = false;
    socket_.detach();  // before Connector/C closes the descriptor
    mysql_.reset();
}

void session::connect_interrupted(const endpoint& e, const error& why) {
    drop_handle();
    if (why.code() != errc::timeout) throw why;
    diagnostics diag = why.diag();
    diag.message = "connecting to " + e.host + ":" + std::to_string(e.port != 0 ? e.port : 3306) +
                   " took longer than the connect limit (" +
                   std::to_string(cfg_.timeouts.connect.count()) + " ms)";
    throw error(why.code(), std::move(diag));
}

void session::connect_failed(const endpoint& e, std::optional<error>& last) {
    MYSQL* m = mysql_.get();
    diagnostics diag;
    diag.native_code = static_cast<int>(mysql_errno(m));
    diag.sqlstate = mysql_sqlstate(m);
    diag.message = "cannot connect to " + e.host + ":" +
                   std::to_string(e.port != 0 ? e.port : 3306) + ": " + mysql_error(m);
    last.emplace(make_mysql_error(mysql_errno(m)), std::move(diag));
    drop_handle();
}

bool session::role_fits(const endpoint& e, const std::string& want, bool read_only,
                        std::optional<error>& last) {
    if (read_only == (want == "standby")) return true;
    diagnostics diag;
    diag.message = e.host + ":" + std::to_string(e.port != 0 ? e.port : 3306) + " is " +
                   (read_only ? "read-only" : "writable") +
                   " (@@global.read_only) and target_role wants a " +
                   (want == "primary" ? "primary" : "standby");
    // A connect that finds no host of the wanted role is a failed connect (connection_error),
    // whatever the roles found: nothing was sent, and during a failover the promoted replica
    // turns up in a moment, so a retry may succeed.
    last.emplace(make_mysql_error(2003U), std::move(diag));
    drop_handle();
    return false;
}

std::string session::finish_open(const std::optional<error>& last) {
    if (last || !mysql_) throw error(*last);
    connecting_ = false;
    thread_id_ = mysql_thread_id(mysql_.get());
    const char* v = mysql_get_server_info(mysql_.get());
    server_version_ = v != nullptr ? v : "";
    mariadb_ = server_version_.find("MariaDB") != std::string::npos;
    std::uint64_t extended = 0;  // MariaDB's capability bits beyond the MySQL protocol's
    mariadb_get_infov(mysql_.get(), MARIADB_CONNECTION_EXTENDED_SERVER_CAPABILITIES, &extended);
    bulk_supported_ = mariadb_ && (extended & (MARIADB_CLIENT_STMT_BULK_OPERATIONS >> 32)) != 0;
    ++generation_;
    // dal's timestamps are UTC: TIMESTAMP columns convert through the session's time zone, so
    // it is UTC too (DATETIME columns are stored as given).
    std::string setup = "SET time_zone = '+00:00'";
    server_timeout_ = 0;
    if (configured_timeout_ > 0) {
        setup += ", " + timeout_sql(configured_timeout_).substr(4);  // one SET, one round trip
        server_timeout_ = configured_timeout_;
    }
    return setup;
}

// The hosts in order, the first that answers and has the role wanted (read from
// @@global.read_only, as a primary is writable and a replica is not); prefer_standby takes a
// standby if any answers, else any host. The two forms differ only in how they wait.
void session::open(const config& cfg) {
    const connect_plan p = plan_open(cfg);
    std::optional<error> last;
    for (int pass = 0; pass < p.passes() && !mysql_; ++pass) {
        const std::string want = p.want(pass);
        for (const endpoint& e : p.hosts) {
            MYSQL* ret = nullptr;
            try {
                int status = start_connect(p, e, ret);
                while (status != 0)
                    status = mysql_real_connect_cont(&ret, mysql_.get(), wait_poll(status));
                if (ret == nullptr) {
                    connect_failed(e, last);
                    continue;
                }
                if (want == "any" || role_fits(e, want, read_only_blocking(), last)) {
                    last.reset();  // what earlier hosts said no longer matters
                    break;
                }
            } catch (const error& why) {
                connect_interrupted(e, why);
            }
        }
    }
    run_simple(finish_open(last));
}

boost::asio::awaitable<void> session::async_open(config cfg) {
    const connect_plan p = plan_open(cfg);
    const executor_type ex = co_await boost::asio::this_coro::executor;
    std::optional<error> last;
    for (int pass = 0; pass < p.passes() && !mysql_; ++pass) {
        const std::string want = p.want(pass);
        for (const endpoint& e : p.hosts) {
            MYSQL* ret = nullptr;
            std::optional<error> interrupted;  // no co_await in a handler: rethrown below
            try {
                int status = start_connect(p, e, ret);
                // A connect that failed at once (the server refused it) has no socket to wait on.
                if (status != 0 || ret != nullptr) attach_socket(ex);
                const watch guard(*this, p.until);  // the connect limit, role check included
                while (status != 0)
                    status =
                        mysql_real_connect_cont(&ret, mysql_.get(), co_await async_wait(status));
                if (ret == nullptr) {
                    connect_failed(e, last);
                    continue;
                }
                if (want == "any" || role_fits(e, want, co_await async_read_only(), last)) {
                    last.reset();
                    break;
                }
            } catch (const error& why) {
                interrupted.emplace(why);
            }
            if (interrupted) connect_interrupted(e, *interrupted);
        }
    }
    co_await async_run_simple(finish_open(last));
}

namespace {
/// The first column of the first row is true (not NULL, not "0"); takes the result.
bool first_cell_true(MYSQL_RES* r) {
    const std::unique_ptr<MYSQL_RES, decltype(&mysql_free_result)> res(r, &mysql_free_result);
    if (!res) return false;
    MYSQL_ROW row = mysql_fetch_row(res.get());
    return row != nullptr && row[0] != nullptr && std::string_view(row[0]) != "0";
}
constexpr std::string_view read_only_sql = "SELECT @@global.read_only";
}  // namespace

bool session::read_only_blocking() {
    current_sql_ = std::string(read_only_sql);
    int ret = 0;
    int status =
        mysql_real_query_start(&ret, mysql_.get(), read_only_sql.data(), read_only_sql.size());
    while (status != 0)
        status = mysql_real_query_cont(&ret, mysql_.get(), wait_poll(status));
    if (ret != 0) fail(read_only_sql, nullptr);
    MYSQL_RES* r = nullptr;
    status = mysql_store_result_start(&r, mysql_.get());
    while (status != 0)
        status = mysql_store_result_cont(&r, mysql_.get(), wait_poll(status));
    if (r == nullptr) fail(read_only_sql, nullptr);
    return first_cell_true(r);
}

boost::asio::awaitable<bool> session::async_read_only() {
    current_sql_ = std::string(read_only_sql);
    int ret = 0;
    int status =
        mysql_real_query_start(&ret, mysql_.get(), read_only_sql.data(), read_only_sql.size());
    while (status != 0)
        status = mysql_real_query_cont(&ret, mysql_.get(), co_await async_wait(status));
    if (ret != 0) fail(read_only_sql, nullptr);
    MYSQL_RES* r = nullptr;
    status = mysql_store_result_start(&r, mysql_.get());
    while (status != 0)
        status = mysql_store_result_cont(&r, mysql_.get(), co_await async_wait(status));
    if (r == nullptr) fail(read_only_sql, nullptr);
    co_return first_cell_true(r);
}

std::string session::timeout_sql(std::int64_t ms) const {
    // MariaDB: seconds, fractions allowed, every statement. MySQL 8: milliseconds, SELECT only.
    if (mariadb_) {
        std::array<char, 32> buf{};
        const auto r =
            std::to_chars(buf.data(), buf.data() + buf.size(), static_cast<double>(ms) / 1000.0);
        return "SET SESSION max_statement_time = " + std::string(buf.data(), r.ptr);
    }
    return "SET SESSION max_execution_time = " + std::to_string(ms);
}

void session::close() noexcept {
    watchdog_.detach();
    active_deadline_ = deadline::max();
    socket_.detach();  // Connector/C owns the descriptor
    text_res_.reset();
    mysql_.reset();
}

server_info session::info() const {
    return {"mysql", server_version_, driver_version()};
}

void session::require_open() const {
    if (!mysql_)
        throw error(make_error_code(client_errc::connection_closed),
                    "the MySQL connection is closed");
}

// ---- waiting --------------------------------------------------------------------------------

int session::wait_poll(int status) {
    while (true) {
        pollfd p{};
        p.fd = mysql_get_socket(mysql_.get());
        if ((status & MYSQL_WAIT_READ) != 0) p.events |= POLLIN;
        if ((status & MYSQL_WAIT_WRITE) != 0) p.events |= POLLOUT;
        if ((status & MYSQL_WAIT_EXCEPT) != 0) p.events |= POLLPRI;
        std::int64_t ms = -1;
        bool library_timeout = false;
        if (wait_until_ != deadline::max()) {
            ms = std::max<std::int64_t>(
                0,
                std::chrono::ceil<std::chrono::milliseconds>(wait_until_ - clock::now()).count());
        }
        if ((status & MYSQL_WAIT_TIMEOUT) != 0) {
            const auto lib = static_cast<std::int64_t>(mysql_get_timeout_value_ms(mysql_.get()));
            if (ms < 0 || lib < ms) {
                ms = lib;
                library_timeout = true;
            }
        }
        const int rc = ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(ms, 1'000'000)));
        if (rc > 0) {
            int ready = 0;
            if ((p.revents & (POLLIN | POLLERR | POLLHUP)) != 0) ready |= MYSQL_WAIT_READ;
            if ((p.revents & (POLLOUT | POLLERR | POLLHUP)) != 0) ready |= MYSQL_WAIT_WRITE;
            if ((p.revents & POLLPRI) != 0) ready |= MYSQL_WAIT_EXCEPT;
            return ready;
        }
        if (rc < 0) {
            if (errno == EINTR) continue;
            fail("(waiting for the server)", nullptr);
        }
        if (library_timeout) return MYSQL_WAIT_TIMEOUT;
        if (wait_until_ != deadline::max() && clock::now() >= wait_until_) {
            if (connecting_) throw timeout_error("connect limit reached");
            on_deadline_passed();
        }
    }
}

void session::on_deadline_passed() {
    if (kill_sent_) give_up();
    kill_sent_ = true;
    if (stop_.load() == stop_reason::none) stop_.store(stop_reason::deadline);
    kill_query_detached(cfg_, thread_id_);
    wait_until_ = clock::now() + cancel_grace_;
}

void session::give_up() {
    close();
    throw timeout_error(
        "the statement ran past its deadline and the server did not stop it within " +
        std::to_string(cancel_grace_.count()) + " ms of KILL QUERY; the connection was closed");
}

void session::cancel() noexcept {
    stop_.store(stop_reason::user);
    kill_query_detached(cfg_, thread_id_);
}

// ---- statements -----------------------------------------------------------------------------

error session::last_error(std::string_view sql, MYSQL_STMT* st) const {
    diagnostics d;
    unsigned number = 0;
    if (st != nullptr && mysql_stmt_errno(st) != 0) {
        number = mysql_stmt_errno(st);
        d.message = mysql_stmt_error(st);
        d.sqlstate = mysql_stmt_sqlstate(st);
    } else if (mysql_) {
        number = mysql_errno(mysql_.get());
        d.message = mysql_error(mysql_.get());
        d.sqlstate = mysql_sqlstate(mysql_.get());
    }
    if (number == 0) {
        number = 2013;  // CR_SERVER_LOST: the connection went away under us
        if (d.message.empty()) d.message = "the connection to the server was lost";
    }
    d.native_code = static_cast<int>(number);
    d.sql = sql::redacted(sql, sql::mysql_dialect);
    const stop_reason why = stop_.load();
    if (number == er_statement_timeout || number == er_query_timeout ||
        (number == er_query_interrupted && why == stop_reason::deadline)) {
        d.message = "the statement ran past its deadline and was stopped (" + d.message + ")";
        return error(make_error_code(client_errc::timeout), std::move(d));
    }
    return error(make_mysql_error(number), std::move(d));
}

void session::fail(std::string_view sql, MYSQL_STMT* st) {
    const error e = last_error(sql, st);
    // Client-side errors (2000-2999) leave the protocol state unknown: the connection is gone.
    const int n = e.diag().native_code;
    if (n >= 2000 && n < 3000) close();
    throw error(e);
}

statement session::new_statement(std::string sql) {
    statement out;
    out.sql_ = std::move(sql);
    out.generation_ = generation_;
    out.serial_ = ++statement_serial_;
    out.ddl_ = commits_implicitly(out.sql_);
    out.st_.reset(mysql_stmt_init(mysql_.get()));
    if (!out.st_) fail(out.sql_, nullptr);
    const my_bool yes = 1;
    mysql_stmt_attr_set(out.st_.get(), STMT_ATTR_UPDATE_MAX_LENGTH, &yes);
    return out;
}

int session::run_prepare(statement& st) {
    current_sql_ = st.sql_;
    begin_wait(default_deadline());
    int ret = 0;
    int status = mysql_stmt_prepare_start(&ret, st.st_.get(), st.sql_.c_str(), st.sql_.size());
    while (status != 0)
        status = mysql_stmt_prepare_cont(&ret, st.st_.get(), wait_poll(status));
    return ret;
}

boost::asio::awaitable<int> session::async_run_prepare(statement& st) {
    current_sql_ = st.sql_;
    begin_wait(default_deadline());
    const watch guard(*this, wait_until_);
    int ret = 0;
    int status = mysql_stmt_prepare_start(&ret, st.st_.get(), st.sql_.c_str(), st.sql_.size());
    while (status != 0)
        status = mysql_stmt_prepare_cont(&ret, st.st_.get(), co_await async_wait(status));
    co_return ret;
}

statement session::prepare(std::string_view sql) {
    require_open();
    statement out = new_statement(std::string(sql));
    const int ret = run_prepare(out);
    return prepared(std::move(out), ret);
}

statement session::prepared(statement out, int ret) {
    if (ret != 0) {
        if (mysql_stmt_errno(out.st_.get()) == er_unsupported_ps) {
            out.st_.reset();  // not preparable (some admin statements): the text protocol
            return out;
        }
        fail(out.sql_, out.st_.get());
    }
    out.params_ = static_cast<unsigned>(mysql_stmt_param_count(out.st_.get()));
    return out;
}

boost::asio::awaitable<statement> session::async_prepare(std::string sql) {
    attach_socket(co_await boost::asio::this_coro::executor);
    statement out = new_statement(std::move(sql));
    const int ret = co_await async_run_prepare(out);
    co_return prepared(std::move(out), ret);
}

void session::reprepare(statement& st) {
    reprepared(st, run_prepare(st));
}

boost::asio::awaitable<void> session::async_reprepare(statement& st) {
    const int ret = co_await async_run_prepare(st);
    reprepared(st, ret);
}

void session::reprepared(statement& st, int ret) {
    if (ret != 0) fail(st.sql_, st.st_.get());
    st.params_ = static_cast<unsigned>(mysql_stmt_param_count(st.st_.get()));
    st.serial_ = ++statement_serial_;  // nothing bound to it any more
    st.reprepare_ = false;
}

void session::take_renamed_columns(statement& st) {
    const MYSQL* m = mysql_.get();
    const MYSQL_STMT* s = st.st_.get();
    // No metadata sent with this result: Connector/C points at the statement's own.
    if (m->fields == nullptr || m->fields == s->fields || m->field_count != s->field_count) return;
    for (unsigned c = 0; c < s->field_count; ++c) {
        const char* now = m->fields[c].name != nullptr ? m->fields[c].name : "";
        const char* kept = s->fields[c].name != nullptr ? s->fields[c].name : "";
        if (std::strcmp(now, kept) == 0) continue;
        for (unsigned k = 0; k < s->field_count; ++k)
            columns_[k].name = m->fields[k].name != nullptr ? m->fields[k].name : "";
        st.reprepare_ = true;
        results_bound_for_ = 0;  // the names differ from the statement's: bound again next time
        return;
    }
}

void session::begin_wait(deadline d) {
    stop_.store(stop_reason::none);
    kill_sent_ = false;
    give_up_ = false;
    wait_until_ = d;
}

deadline session::default_deadline() const {
    if (configured_timeout_ <= 0) return deadline::max();
    return clock::now() + std::chrono::milliseconds{configured_timeout_};
}

void session::begin_statement(statement& st, std::span<const param_ref> params, deadline d) {
    require_open();
    if (st.generation_ != generation_) {
        diagnostics diag;
        diag.message = "the prepared statement belongs to an earlier connection";
        diag.native_code = 1243;
        throw error(make_mysql_error(1243), std::move(diag));
    }
    if (st.ddl_ && in_transaction()) {
        if (!allow_ddl_in_transaction_) {
            diagnostics diag;
            diag.message =
                "this statement would commit the open transaction implicitly (MySQL commits "
                "before and after DDL): run it outside the transaction, or set "
                "ddl_in_transaction=allow to accept the implicit commit";
            diag.sql = sql::redacted(st.sql_, sql::mysql_dialect);
            throw error(make_error_code(client_errc::implicit_commit), std::move(diag));
        }
        ++implicit_commits_;
        last_warning_ = "DDL inside a transaction committed it implicitly: " +
                        sql::redacted(st.sql_, sql::mysql_dialect);
    }
    if (st.text_protocol() && !params.empty())
        throw error(make_error_code(client_errc::unbindable_value),
                    "MySQL cannot prepare this statement, so it cannot take parameters");
    if (!st.text_protocol()) bind_params(st, params);
    current_sql_ = st.sql_;
    begin_wait(d);
}

void session::bind_params(statement& st, std::span<const param_ref> params) {
    const std::size_t n = params.size();
    // The same statement with parameters of the same kinds, none of them pointing into the
    // caller's memory: Connector/C reads the values from our arrays at execution, so new
    // values are all it needs.
    const auto by_value = [](param_ref::kind k) {
        return k != param_ref::kind::text && k != param_ref::kind::binary;
    };
    if (st.serial_ == params_bound_for_ && n == param_kinds_.size() &&
        std::equal(
            params.begin(), params.end(), param_kinds_.begin(),
            [&](const param_ref& p, param_ref::kind k) { return p.type == k && by_value(k); })) {
        for (std::size_t k = 0; k < n; ++k) {
            const param_ref& p = params[k];
            switch (p.type) {
                case param_ref::kind::boolean: param_ints_[k] = p.num.b ? 1 : 0; break;
                case param_ref::kind::int64: param_ints_[k] = p.num.i; break;
                case param_ref::kind::uint64:
                    param_ints_[k] = static_cast<std::int64_t>(p.num.u);
                    break;
                case param_ref::kind::float64: param_doubles_[k] = p.num.d; break;
                case param_ref::kind::date_value: param_times_[k] = to_mysql_date(p.day); break;
                case param_ref::kind::timestamp_value:
                    param_times_[k] = to_mysql_datetime(p.ts);
                    break;
                default: break;  // null: nothing to carry
            }
        }
        return;
    }
    params_bound_for_ = 0;
    param_binds_.assign(n, MYSQL_BIND{});
    param_times_.resize(n);
    param_ints_.resize(n);
    param_doubles_.resize(n);
    for (std::size_t k = 0; k < n; ++k) {
        const param_ref& p = params[k];
        MYSQL_BIND& b = param_binds_[k];
        switch (p.type) {
            case param_ref::kind::null: b.buffer_type = MYSQL_TYPE_NULL; break;
            case param_ref::kind::boolean:
            case param_ref::kind::int64:
            case param_ref::kind::uint64:
                param_ints_[k] = p.type == param_ref::kind::boolean ? (p.num.b ? 1 : 0)
                                 : p.type == param_ref::kind::int64
                                     ? p.num.i
                                     : static_cast<std::int64_t>(p.num.u);
                b.buffer_type = MYSQL_TYPE_LONGLONG;
                b.buffer = &param_ints_[k];
                b.is_unsigned = p.type == param_ref::kind::uint64 ? 1 : 0;
                break;
            case param_ref::kind::float64:
                param_doubles_[k] = p.num.d;
                b.buffer_type = MYSQL_TYPE_DOUBLE;
                b.buffer = &param_doubles_[k];
                break;
            case param_ref::kind::text:
            case param_ref::kind::binary:
                b.buffer_type =
                    p.type == param_ref::kind::text ? MYSQL_TYPE_STRING : MYSQL_TYPE_BLOB;
                // NOLINTNEXTLINE(cppcoreguidelines-pro-type-const-cast): read only by the driver
                b.buffer = const_cast<char*>(p.bytes.data());
                b.buffer_length = static_cast<unsigned long>(p.bytes.size());
                break;
            case param_ref::kind::date_value:
                param_times_[k] = to_mysql_date(p.day);
                b.buffer_type = MYSQL_TYPE_DATE;
                b.buffer = &param_times_[k];
                break;
            case param_ref::kind::timestamp_value:
                param_times_[k] = to_mysql_datetime(p.ts);
                b.buffer_type = MYSQL_TYPE_DATETIME;
                b.buffer = &param_times_[k];
                break;
        }
    }
    if (n > 0 && mysql_stmt_bind_param(st.st_.get(), param_binds_.data()) != 0)
        fail(st.sql_, st.st_.get());
    param_kinds_.resize(n);
    std::transform(params.begin(), params.end(), param_kinds_.begin(),
                   [](const param_ref& p) { return p.type; });
    params_bound_for_ = st.serial_;
}

int session::start_execute(statement& st) {
    if (st.text_protocol())
        return mysql_real_query_start(&ret_, mysql_.get(), st.sql_.c_str(), st.sql_.size());
    return mysql_stmt_execute_start(&ret_, st.st_.get());
}

int session::continue_execute(statement& st, int ready) {
    if (st.text_protocol()) return mysql_real_query_cont(&ret_, mysql_.get(), ready);
    return mysql_stmt_execute_cont(&ret_, st.st_.get(), ready);
}

void session::check_execute(statement& st) {
    if (ret_ == 0) return;
    fail(st.sql_, st.st_.get());
}

bool session::execute_saw_new_columns(const statement& st) const noexcept {
    return ret_ != 0 && !st.text_protocol() &&
           mysql_stmt_errno(st.st_.get()) == CR_NEW_STMT_METADATA;
}

// Connector/C read the new column definitions, not the rows: they are dropped, read off the
// socket without a round trip, as far as they have come (a large result may still be on its
// way: hence the waits), and the connection stays usable.
int session::start_drop_result(statement& st) {
    return mysql_stmt_free_result_start(&dropped_, st.st_.get());
}

int session::continue_drop_result(statement& st, int ready) {
    return mysql_stmt_free_result_cont(&dropped_, st.st_.get(), ready);
}

boost::asio::awaitable<void> session::async_drop_result(statement& st) {
    int status = start_drop_result(st);
    while (status != 0)
        status = continue_drop_result(st, co_await async_wait(status));
    columns_changed(st);
}

void session::columns_changed(statement& st) {
    // Connector/C's drop clears the errors first and reports no read failure in its result:
    // the connection's error says whether the rest of the result was lost (then it is gone).
    if (dropped_ != 0 || mysql_errno(mysql_.get()) != 0) fail(st.sql_, nullptr);
    st.reprepare_ = true;
    results_bound_for_ = 0;
    diagnostics diag;
    diag.sql = sql::redacted(st.sql_, sql::mysql_dialect);
    // Stopped meanwhile (cancel(), or the deadline's KILL QUERY): said so, not re-run (a
    // re-run would start afresh and lose the stop).
    if (const stop_reason why = stop_.load(); why != stop_reason::none) {
        const bool user = why == stop_reason::user;
        diag.native_code = CR_NEW_STMT_METADATA;
        diag.message = std::string(user ? "cancelled" : "stopped at its deadline") +
                       " while dal dropped the result of a statement whose table's columns "
                       "changed since it was prepared (it ran; it is prepared again before its "
                       "next run)";
        throw error(make_error_code(user ? client_errc::cancelled : client_errc::timeout),
                    std::move(diag));
    }
    if (reads_only(st.sql_)) {
        // Running a query again changes nothing: reported as stale, so the connection
        // re-runs it (outside a transaction; inside one the caller decides), prepared again.
        diag.native_code = ER_NEED_REPREPARE;
        diag.message = "the table's columns changed since the statement was prepared";
        throw error(make_mysql_error(ER_NEED_REPREPARE), std::move(diag));
    }
    diag.native_code = CR_NEW_STMT_METADATA;
    diag.message =
        "the statement ran, but its result could not be read: the table's columns changed "
        "since it was prepared (it is prepared again before its next run; it was not re-run "
        "here, since it may have changed data)";
    throw error(make_mysql_error(CR_NEW_STMT_METADATA), std::move(diag));
}

bool session::has_result(const statement& st) const noexcept {
    if (st.text_protocol()) return mysql_field_count(mysql_.get()) > 0;
    return mysql_stmt_field_count(st.st_.get()) > 0;
}

int session::start_store(statement& st) {
    if (st.text_protocol()) {
        MYSQL_RES* r = nullptr;
        const int status = mysql_store_result_start(&r, mysql_.get());
        text_res_.reset(r);
        return status;
    }
    return mysql_stmt_store_result_start(&ret_, st.st_.get());
}

int session::continue_store(statement& st, int ready) {
    if (st.text_protocol()) {
        MYSQL_RES* r = nullptr;
        const int status = mysql_store_result_cont(&r, mysql_.get(), ready);
        if (status == 0) text_res_.reset(r);
        return status;
    }
    return mysql_stmt_store_result_cont(&ret_, st.st_.get(), ready);
}

void session::check_store(statement& st) {
    if (st.text_protocol() ? !text_res_ : ret_ != 0) fail(st.sql_, st.st_.get());
}

bool session::results_still_bound(const statement& st) const noexcept {
    const MYSQL_STMT* s = st.st_.get();
    if (st.serial_ != results_bound_for_ || s->field_count != columns_.size()) return false;
    for (std::size_t c = 0; c < columns_.size(); ++c) {
        // A re-prepared statement (the table changed) may bring other columns: compared by
        // type, decoding and name.
        const MYSQL_FIELD& f = s->fields[c];
        if (f.type != types_[c] || decoder_for(f) != columns_[c].how ||
            columns_[c].name != (f.name != nullptr ? std::string_view(f.name) : ""))
            return false;
        switch (columns_[c].how) {
            case column::decode::integer:
            case column::decode::unsigned_integer:
            case column::decode::floating:
            case column::decode::temporal: break;
            default:
                if (buffers_[c].size() < std::max<unsigned long>(f.max_length, 1)) return false;
        }
    }
    return true;
}

void session::bind_results(statement& st) {
    if (st.text_protocol() || !results_still_bound(st)) bind_result_columns(st);
    if (!st.text_protocol()) take_renamed_columns(st);
}

void session::bind_result_columns(statement& st) {
    results_bound_for_ = 0;
    MYSQL_RES* meta =
        st.text_protocol() ? text_res_.get() : mysql_stmt_result_metadata(st.st_.get());
    const std::unique_ptr<MYSQL_RES, detail::res_deleter> owned(st.text_protocol() ? nullptr
                                                                                   : meta);
    if (meta == nullptr) fail(st.sql_, st.st_.get());
    const unsigned n = mysql_num_fields(meta);
    const MYSQL_FIELD* fields = mysql_fetch_fields(meta);
    columns_.resize(n);
    fields_.assign(n, field_view{});
    types_.resize(n);
    if (st.text_protocol()) {
        for (unsigned c = 0; c < n; ++c) {
            columns_[c].name = fields[c].name != nullptr ? fields[c].name : "";
            columns_[c].how = decoder_for(fields[c]);
            types_[c] = fields[c].type;
        }
        return;
    }
    result_binds_.assign(n, MYSQL_BIND{});
    buffers_.resize(n);
    lengths_.assign(n, 0);
    nulls_.assign(n, 0);
    errors_.assign(n, 0);
    times_.resize(n);
    ints_.resize(n);
    doubles_.resize(n);
    temporal_text_.resize(n);
    for (unsigned c = 0; c < n; ++c) {
        const MYSQL_FIELD& f = fields[c];
        columns_[c].name = f.name != nullptr ? f.name : "";
        columns_[c].how = decoder_for(f);
        types_[c] = f.type;
        MYSQL_BIND& b = result_binds_[c];
        b.length = &lengths_[c];
        b.is_null = &nulls_[c];
        b.error = &errors_[c];
        switch (columns_[c].how) {
            case column::decode::integer:
            case column::decode::unsigned_integer:
                b.buffer_type = MYSQL_TYPE_LONGLONG;
                b.buffer = &ints_[c];
                b.is_unsigned = columns_[c].how == column::decode::unsigned_integer ? 1 : 0;
                break;
            case column::decode::floating:
                b.buffer_type = MYSQL_TYPE_DOUBLE;
                b.buffer = &doubles_[c];
                break;
            case column::decode::temporal:
                b.buffer_type = f.type;
                b.buffer = &times_[c];
                break;
            default:
                // max_length is known after store_result (STMT_ATTR_UPDATE_MAX_LENGTH).
                buffers_[c].resize(std::max<unsigned long>(f.max_length, 1));
                b.buffer_type = columns_[c].how == column::decode::text ||
                                        columns_[c].how == column::decode::decimal
                                    ? MYSQL_TYPE_STRING
                                    : MYSQL_TYPE_BLOB;
                b.buffer = buffers_[c].data();
                b.buffer_length = static_cast<unsigned long>(buffers_[c].size());
                break;
        }
    }
    if (mysql_stmt_bind_result(st.st_.get(), result_binds_.data()) != 0)
        fail(st.sql_, st.st_.get());
    results_bound_for_ = st.serial_;
}

bool session::fetch(statement& st) {
    const std::size_t n = columns_.size();
    if (st.text_protocol()) {
        MYSQL_ROW r = mysql_fetch_row(text_res_.get());
        if (r == nullptr) return false;
        const unsigned long* len = mysql_fetch_lengths(text_res_.get());
        for (std::size_t c = 0; c < n; ++c) {
            field_view& f = fields_[c];
            f = field_view{};
            if (r[c] == nullptr) continue;
            f.bytes = std::string_view(r[c], len[c]);
            f.type = field_view::kind::text;
            switch (columns_[c].how) {
                case column::decode::integer:
                case column::decode::unsigned_integer:
                    if (std::from_chars(f.bytes.data(), f.bytes.data() + f.bytes.size(), f.i).ec ==
                        std::errc{})
                        f.type = field_view::kind::int64;
                    else
                        f.type = field_view::kind::decimal;
                    break;
                case column::decode::floating:
                    if (std::from_chars(f.bytes.data(), f.bytes.data() + f.bytes.size(), f.d).ec ==
                        std::errc{})
                        f.type = field_view::kind::float64;
                    break;
                case column::decode::decimal: f.type = field_view::kind::decimal; break;
                case column::decode::binary: f.type = field_view::kind::binary; break;
                default: break;
            }
        }
        return true;
    }
    const int rc = mysql_stmt_fetch(st.st_.get());
    if (rc == MYSQL_NO_DATA) return false;
    if (rc == 1) fail(st.sql_, st.st_.get());
    // MYSQL_DATA_TRUNCATED cannot happen for strings (buffers are max_length long); it is
    // reported for integers that do not fit, which the checks below name.
    for (std::size_t c = 0; c < n; ++c) {
        field_view& f = fields_[c];
        f = field_view{};
        if (nulls_[c] != 0) continue;
        switch (columns_[c].how) {
            case column::decode::integer:
                f.type = field_view::kind::int64;
                f.i = ints_[c];
                break;
            case column::decode::unsigned_integer: {
                const auto u = static_cast<std::uint64_t>(ints_[c]);
                if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
                    f.type = field_view::kind::int64;
                    f.i = ints_[c];
                } else {  // beyond int64: exact, as a decimal
                    std::array<char, 24> buf{};
                    const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), u);
                    temporal_text_[c].assign(buf.data(), r.ptr);
                    f.type = field_view::kind::decimal;
                    f.bytes = temporal_text_[c];
                }
                break;
            }
            case column::decode::floating:
                f.type = field_view::kind::float64;
                f.d = doubles_[c];
                break;
            case column::decode::temporal:
                format_time(times_[c], types_[c], temporal_text_[c]);
                f.type = field_view::kind::text;
                f.bytes = temporal_text_[c];
                break;
            default:
                f.type = columns_[c].how == column::decode::decimal  ? field_view::kind::decimal
                         : columns_[c].how == column::decode::binary ? field_view::kind::binary
                                                                     : field_view::kind::text;
                f.bytes = std::string_view(buffers_[c].data(),
                                           std::min<std::size_t>(lengths_[c], buffers_[c].size()));
                break;
        }
    }
    return true;
}

void session::end_results(statement& st) {
    if (st.text_protocol()) {
        text_res_.reset();
    } else {
        mysql_stmt_free_result(st.st_.get());
    }
}

std::uint64_t session::affected(const statement& st) const noexcept {
    const my_ulonglong n = st.text_protocol() ? mysql_affected_rows(mysql_.get())
                                              : mysql_stmt_affected_rows(st.st_.get());
    return n == static_cast<my_ulonglong>(-1) ? 0 : static_cast<std::uint64_t>(n);
}

void session::finish_statement(statement& st) {
    // More result sets (a CALL): drained so the connection is ready for the next statement.
    if (st.text_protocol()) {
        while (mysql_more_results(mysql_.get()) && mysql_next_result(mysql_.get()) == 0)
            mysql_free_result(mysql_store_result(mysql_.get()));
    } else {
        while (mysql_stmt_more_results(st.st_.get()) && mysql_stmt_next_result(st.st_.get()) == 0)
            mysql_stmt_free_result(st.st_.get());
    }
    const stop_reason why = stop_.load();
    if (why == stop_reason::deadline && kill_sent_) {
        // KILL QUERY reached it: some statements (SLEEP) end "successfully" when killed.
        diagnostics d;
        d.message =
            "the statement ran past its deadline and was stopped with KILL QUERY; its "
            "result is discarded";
        d.sql = sql::redacted(st.sql_, sql::mysql_dialect);
        throw error(make_error_code(client_errc::timeout), std::move(d));
    }
}

// ---- bulk execution -------------------------------------------------------------------------

std::uint64_t session::execute_bulk(statement& st, std::span<const std::span<const param_ref>> rows,
                                    deadline d) {
    require_open();
    if (rows.empty()) return 0;
    if (st.reprepare_) reprepare(st);
    const std::size_t cols = rows.front().size();
    // Column types from the rows; a column whose rows disagree (possible only with custom
    // types) or a server without bulk support means one execution per row.
    std::vector<param_ref::kind> kinds(cols, param_ref::kind::null);
    bool uniform = !st.text_protocol() && cols > 0 && bulk_supported_;
    for (const auto& r : rows) {
        for (std::size_t c = 0; c < cols && uniform; ++c) {
            const param_ref::kind k = r[c].type;
            if (k == param_ref::kind::null) continue;
            const bool intlike = k == param_ref::kind::int64 || k == param_ref::kind::uint64 ||
                                 k == param_ref::kind::boolean;
            const bool was_intlike = kinds[c] == param_ref::kind::int64 ||
                                     kinds[c] == param_ref::kind::uint64 ||
                                     kinds[c] == param_ref::kind::boolean;
            if (kinds[c] != param_ref::kind::null && kinds[c] != k && !(intlike && was_intlike))
                uniform = false;
            else if (kinds[c] == param_ref::kind::null || k == param_ref::kind::uint64)
                kinds[c] = k;  // unsigned wins: the column is bound as BIGINT UNSIGNED
        }
    }
    if (!uniform) {
        std::uint64_t total = 0;
        struct ignore {
            void operator()(const row& /*r*/) const noexcept {}
        } h;
        for (const auto& r : rows)
            total += execute(st, r, d, h);
        return total;
    }
    if (const std::string pre = setup_sql(d); !pre.empty()) run_simple(pre);
    begin_statement(st, {}, d);
    const std::size_t n = rows.size();
    bulk_.resize(cols);
    bulk_binds_.assign(cols, MYSQL_BIND{});
    for (std::size_t c = 0; c < cols; ++c) {
        bulk_column& bc = bulk_[c];
        MYSQL_BIND& b = bulk_binds_[c];
        bc.indicators.assign(n, STMT_INDICATOR_NONE);
        for (std::size_t r = 0; r < n; ++r)
            if (rows[r][c].type == param_ref::kind::null) bc.indicators[r] = STMT_INDICATOR_NULL;
        b.u.indicator = bc.indicators.data();
        switch (kinds[c]) {
            case param_ref::kind::null:
            case param_ref::kind::text:
            case param_ref::kind::binary:
                bc.ptrs.assign(n, nullptr);
                bc.lengths.assign(n, 0);
                for (std::size_t r = 0; r < n; ++r) {
                    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-const-cast): read only
                    bc.ptrs[r] = const_cast<char*>(rows[r][c].bytes.data());
                    bc.lengths[r] = static_cast<unsigned long>(rows[r][c].bytes.size());
                }
                b.buffer_type =
                    kinds[c] == param_ref::kind::binary ? MYSQL_TYPE_BLOB : MYSQL_TYPE_STRING;
                b.buffer = bc.ptrs.data();
                b.length = bc.lengths.data();
                break;
            case param_ref::kind::boolean:
            case param_ref::kind::int64:
            case param_ref::kind::uint64:
                bc.ints.assign(n, 0);
                for (std::size_t r = 0; r < n; ++r) {
                    const param_ref& p = rows[r][c];
                    bc.ints[r] = p.type == param_ref::kind::boolean ? (p.num.b ? 1 : 0)
                                 : p.type == param_ref::kind::uint64
                                     ? static_cast<std::int64_t>(p.num.u)
                                     : p.num.i;
                }
                b.buffer_type = MYSQL_TYPE_LONGLONG;
                b.is_unsigned = kinds[c] == param_ref::kind::uint64 ? 1 : 0;
                b.buffer = bc.ints.data();
                break;
            case param_ref::kind::float64:
                bc.doubles.assign(n, 0);
                for (std::size_t r = 0; r < n; ++r)
                    bc.doubles[r] = rows[r][c].num.d;
                b.buffer_type = MYSQL_TYPE_DOUBLE;
                b.buffer = bc.doubles.data();
                break;
            case param_ref::kind::date_value:
            case param_ref::kind::timestamp_value:
                bc.times.assign(n, MYSQL_TIME{});
                for (std::size_t r = 0; r < n; ++r) {
                    const param_ref& p = rows[r][c];
                    if (p.type == param_ref::kind::date_value) bc.times[r] = to_mysql_date(p.day);
                    if (p.type == param_ref::kind::timestamp_value)
                        bc.times[r] = to_mysql_datetime(p.ts);
                }
                // Variable-length types (MYSQL_TIME among them) are bound as an array of
                // pointers, one per row; fixed-size numbers as an array of values.
                bc.time_ptrs.resize(n);
                for (std::size_t r = 0; r < n; ++r)
                    bc.time_ptrs[r] = &bc.times[r];
                b.buffer_type =
                    kinds[c] == param_ref::kind::date_value ? MYSQL_TYPE_DATE : MYSQL_TYPE_DATETIME;
                b.buffer = bc.time_ptrs.data();
                break;
        }
    }
    auto size = static_cast<unsigned int>(n);
    mysql_stmt_attr_set(st.st_.get(), STMT_ATTR_ARRAY_SIZE, &size);
    struct reset_array_size {  // the cached statement runs single rows again afterwards
        explicit reset_array_size(MYSQL_STMT* st) noexcept : s(st) {}
        MYSQL_STMT* s;
        reset_array_size(const reset_array_size&) = delete;
        reset_array_size& operator=(const reset_array_size&) = delete;
        ~reset_array_size() {
            unsigned int zero = 0;
            mysql_stmt_attr_set(s, STMT_ATTR_ARRAY_SIZE, &zero);
        }
    } reset{st.st_.get()};
    params_bound_for_ = 0;  // the statement's parameters now point at the bulk arrays
    if (mysql_stmt_bind_param(st.st_.get(), bulk_binds_.data()) != 0) fail(st.sql_, st.st_.get());
    waiter_poll w{this};
    run_statement(st, w);
    const std::uint64_t changed = affected(st);
    finish_statement(st);
    return changed;
}

// ---- simple statements ----------------------------------------------------------------------

void session::run_simple(std::string_view sql) {
    require_open();
    simple_sql_ = std::string(sql);
    current_sql_ = simple_sql_;
    begin_wait(default_deadline());
    int ret = 0;
    int status =
        mysql_real_query_start(&ret, mysql_.get(), simple_sql_.c_str(), simple_sql_.size());
    while (status != 0)
        status = mysql_real_query_cont(&ret, mysql_.get(), wait_poll(status));
    if (ret != 0) fail(simple_sql_, nullptr);
    drain_simple_blocking();
}

void session::drain_simple_blocking() {
    while (true) {
        if (mysql_field_count(mysql_.get()) > 0) {
            MYSQL_RES* r = nullptr;
            int status = mysql_store_result_start(&r, mysql_.get());
            while (status != 0)
                status = mysql_store_result_cont(&r, mysql_.get(), wait_poll(status));
            mysql_free_result(r);
        }
        if (!mysql_more_results(mysql_.get())) return;
        int ret = 0;
        int status = mysql_next_result_start(&ret, mysql_.get());
        while (status != 0)
            status = mysql_next_result_cont(&ret, mysql_.get(), wait_poll(status));
        if (ret > 0) fail(simple_sql_, nullptr);
    }
}

boost::asio::awaitable<void> session::async_run_simple(std::string sql) {
    attach_socket(co_await boost::asio::this_coro::executor);
    simple_sql_ = std::move(sql);
    current_sql_ = simple_sql_;
    begin_wait(default_deadline());
    const watch guard(*this, wait_until_);
    int ret = 0;
    int status =
        mysql_real_query_start(&ret, mysql_.get(), simple_sql_.c_str(), simple_sql_.size());
    while (status != 0)
        status = mysql_real_query_cont(&ret, mysql_.get(), co_await async_wait(status));
    if (ret != 0) fail(simple_sql_, nullptr);
    if (mysql_field_count(mysql_.get()) > 0) {
        MYSQL_RES* r = nullptr;
        status = mysql_store_result_start(&r, mysql_.get());
        while (status != 0)
            status = mysql_store_result_cont(&r, mysql_.get(), co_await async_wait(status));
        mysql_free_result(r);
    }
}

void session::ping() {
    require_open();
    current_sql_ = "(ping)";
    begin_wait(default_deadline());
    int ret = 0;
    int status = mysql_ping_start(&ret, mysql_.get());
    while (status != 0)
        status = mysql_ping_cont(&ret, mysql_.get(), wait_poll(status));
    if (ret != 0) fail("(ping)", nullptr);
}
void session::begin() {
    run_simple("START TRANSACTION");
}
void session::commit() {
    run_simple("COMMIT");
}
void session::rollback() {
    run_simple("ROLLBACK");
}
void session::savepoint(std::string_view name) {
    run_simple("SAVEPOINT " + std::string(name));
}
void session::release_savepoint(std::string_view name) {
    run_simple("RELEASE SAVEPOINT " + std::string(name));
}
void session::rollback_to_savepoint(std::string_view name) {
    run_simple("ROLLBACK TO SAVEPOINT " + std::string(name));
}

std::string session::setup_sql(deadline d) {
    const auto limit = dal::detail::raised_server_limit(server_timeout_, d);
    if (!limit) return {};
    server_timeout_ = *limit == 0 ? dal::detail::unlimited_server_limit : *limit;
    return timeout_sql(*limit);
}

// ---- async ----------------------------------------------------------------------------------

void session::attach_socket(const executor_type& ex) {
    require_open();
    socket_.attach(ex, mysql_get_socket(mysql_.get()));
}

boost::asio::awaitable<int> session::async_wait(int status) {
    const bool write = (status & MYSQL_WAIT_WRITE) != 0;
    auto [ec] =
        co_await socket_.get().async_wait(write ? boost::asio::posix::descriptor_base::wait_write
                                                : boost::asio::posix::descriptor_base::wait_read,
                                          boost::asio::as_tuple(boost::asio::use_awaitable));
    co_return after_wait(ec, write);
}

int session::after_wait(const boost::system::error_code& ec, bool write) {
    if (ec) {
        if (give_up_ && connecting_) throw timeout_error("connect limit reached");
        if (give_up_) give_up();
        fail(current_sql_, nullptr);
    }
    return write ? MYSQL_WAIT_WRITE : MYSQL_WAIT_READ;
}

session::watch::watch(session& s, deadline d) : s_(s) {
    s.active_deadline_ = d;
    // No socket, nothing to wait for (a connect refused at once): nothing to limit.
    if (d != deadline::max() && s.socket_.attached()) s.watchdog_.arm(s.socket_.executor(), d);
}

session::watch::~watch() {
    s_.active_deadline_ = deadline::max();
    s_.watchdog_.disarm();
}

void session::on_watchdog() {
    if (active_deadline_ == deadline::max()) return;
    if (connecting_) {  // nothing to KILL: the connect limit ends the wait
        give_up_ = true;
        socket_.cancel();
        return;
    }
    if (!kill_sent_) {
        // KILL QUERY needs a connect and a round trip: a worker sends it, the loop goes on.
        kill_sent_ = true;
        if (stop_.load() == stop_reason::none) stop_.store(stop_reason::deadline);
        kill_query_detached(cfg_, thread_id_);
        active_deadline_ = clock::now() + cancel_grace_;
        watchdog_.rearm(active_deadline_);
    } else {
        give_up_ = true;
        socket_.cancel();
    }
}

}  // namespace dal::mysql
