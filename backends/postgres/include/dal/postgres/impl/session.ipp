// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
// Compiled once into dal::postgres; not a public header.

#include <poll.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <future>
#include <limits>
#include <string>
#include <thread>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/system/system_error.hpp>

#include <libpq-fe.h>

#include <dal/error.hpp>
#include <dal/postgres/backend.hpp>
#include <dal/postgres/error.hpp>
#include <dal/sql/query.hpp>

namespace dal::detail {
boost::asio::thread_pool& blocking_pool();  // dal/connection.hpp
}

namespace dal::postgres {

namespace {

using clock = std::chrono::steady_clock;

[[noreturn]] void bad_option(std::string_view key, std::string_view value,
                             std::string_view expected) {
    throw error(make_error_code(client_errc::invalid_config),
                "PostgreSQL option '" + std::string(key) + "' has value '" + std::string(value) +
                    "', expected " + std::string(expected));
}

bool parse_bool(std::string_view key, std::string_view v) {
    if (v == "on" || v == "true" || v == "1" || v == "yes") return true;
    if (v == "off" || v == "false" || v == "0" || v == "no") return false;
    bad_option(key, v, "on or off");
}

/// libpq connection keywords a config may pass through unchanged.
constexpr std::array<std::string_view, 20> passthrough_keywords = {"application_name",
                                                                   "target_session_attrs",
                                                                   "options",
                                                                   "keepalives",
                                                                   "keepalives_idle",
                                                                   "keepalives_interval",
                                                                   "keepalives_count",
                                                                   "tcp_user_timeout",
                                                                   "sslsni",
                                                                   "gssencmode",
                                                                   "krbsrvname",
                                                                   "channel_binding",
                                                                   "sslpassword",
                                                                   "passfile",
                                                                   "requirepeer",
                                                                   "ssl_min_protocol_version",
                                                                   "ssl_max_protocol_version",
                                                                   "sslcompression",
                                                                   "sslcrldir",
                                                                   "service"};

std::int64_t millis(std::chrono::milliseconds d) noexcept {
    return d.count();
}

/// The error of a failed connection attempt. libpq reports it as text only; the server's
/// SQLSTATE for the usual cases is recovered from it so the portable condition is right.
error connect_error(PGconn* conn, std::string_view target) {
    std::string msg = conn != nullptr ? PQerrorMessage(conn) : "out of memory";
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' '))
        msg.pop_back();
    std::string_view state = "08001";  // sqlclient_unable_to_establish_sqlconnection
    if (msg.find("password authentication failed") != std::string::npos ||
        msg.find("authentication failed") != std::string::npos)
        state = "28P01";
    else if (msg.find("no pg_hba.conf entry") != std::string::npos)
        state = "28000";
    else if (msg.find("database \"") != std::string::npos &&
             msg.find("does not exist") != std::string::npos)
        state = "3D000";
    else if (msg.find("too many clients") != std::string::npos ||
             msg.find("remaining connection slots") != std::string::npos)
        state = "53300";
    diagnostics d;
    d.message = "cannot connect to " + std::string(target) + ": " + msg;
    d.sqlstate = std::string(state);
    return error(make_sqlstate_error(state), std::move(d));
}

error timeout_error(std::string what) {
    diagnostics d;
    d.message = std::move(what);
    return error(make_error_code(client_errc::timeout), std::move(d));
}

std::string trimmed(const char* s) {
    std::string out = s != nullptr ? s : "";
    while (!out.empty() && (out.back() == '\n' || out.back() == ' '))
        out.pop_back();
    return out;
}

constexpr Oid bytea_oid = 17;

column_decoder decoder_for(Oid type) noexcept {
    switch (type) {
        case 16: return column_decoder::boolean;  // bool
        case 20:                                  // int8
        case 21:                                  // int2
        case 23:                                  // int4
        case 26:                                  // oid
            return column_decoder::integer;
        case 700:  // float4
        case 701:  // float8
            return column_decoder::floating;
        case 1700: return column_decoder::decimal;  // numeric
        case bytea_oid: return column_decoder::bytea;
        case 1005:  // int2[]
        case 1007:  // int4[]
        case 1016:  // int8[]
        case 1028:  // oid[]
            return column_decoder::array_integer;
        case 1021:  // float4[]
        case 1022:  // float8[]
            return column_decoder::array_floating;
        case 1000: return column_decoder::array_boolean;  // bool[]
        case 1231: return column_decoder::array_decimal;  // numeric[]
        case 1009:                                        // text[]
        case 1015:                                        // varchar[]
        case 1014:                                        // bpchar[]
        case 1003:                                        // name[]
        case 2951:                                        // uuid[]
        case 1182:                                        // date[]
        case 1115:                                        // timestamp[]
        case 1185:                                        // timestamptz[]
        case 199:                                         // json[]
        case 3807:                                        // jsonb[]
            return column_decoder::array_text;
        default: return column_decoder::text;
    }
}

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

namespace detail {
/// Releases (does not close) a descriptor libpq owns when the wait on it is over.
struct descriptor_view {
    explicit descriptor_view(boost::asio::posix::stream_descriptor& s) noexcept : sd(s) {}
    descriptor_view(const descriptor_view&) = delete;
    descriptor_view& operator=(const descriptor_view&) = delete;
    ~descriptor_view() { sd.release(); }
    boost::asio::posix::stream_descriptor& sd;
};
}  // namespace detail

// ---- cancel ---------------------------------------------------------------------------------

void detail::cancel_handle::send() noexcept {
    try {
        std::shared_ptr<PGcancel> k;
        {
            const std::lock_guard lock(mutex);
            k = key;
        }
        if (!k) return;
        auto count = in_flight;
        ++*count;
        try {
            std::thread([k = std::move(k), count] {
                std::array<char, 256> buf{};
                PQcancel(k.get(), buf.data(), static_cast<int>(buf.size()));
                --*count;
            }).detach();
        } catch (...) {
            --*count;
            throw;
        }
    } catch (...) {  // NOLINT(bugprone-empty-catch): no thread: cancel_grace closes the
                     // connection instead
    }
}

void detail::cancel_handle::send_and_wait(std::chrono::milliseconds limit) noexcept {
    try {
        std::shared_ptr<PGcancel> k;
        {
            const std::lock_guard lock(mutex);
            k = key;
        }
        if (!k) return;
        auto delivered = std::make_shared<std::promise<void>>();
        std::future<void> done = delivered->get_future();
        auto count = in_flight;
        ++*count;
        try {
            std::thread([k = std::move(k), delivered, count] {
                std::array<char, 256> buf{};
                PQcancel(k.get(), buf.data(), static_cast<int>(buf.size()));
                --*count;
                delivered->set_value();
            }).detach();
        } catch (...) {
            --*count;
            throw;
        }
        done.wait_for(limit);
    } catch (...) {  // NOLINT(bugprone-empty-catch): no thread: cancel_grace closes the
                     // connection instead
    }
}

void detail::cancel_handle::set(PGcancel* k) {
    std::shared_ptr<PGcancel> fresh(k, [](PGcancel* p) { PQfreeCancel(p); });
    const std::lock_guard lock(mutex);
    key = std::move(fresh);
}

void detail::cancel_handle::clear() noexcept {
    try {
        std::shared_ptr<PGcancel> old;
        const std::lock_guard lock(mutex);
        old.swap(key);
    } catch (...) {  // NOLINT(bugprone-empty-catch): a mutex that cannot lock; the key is
                     // freed with the handle
    }
}

void session::cancel() noexcept {
    stop_.store(stop_reason::user);
    cancel_->send();
}

// ---- rows -----------------------------------------------------------------------------------

std::string_view row::decode_bytea(std::string_view in, std::string& out) noexcept {
    try {
        if (in.size() >= 2 && in[0] == '\\' && in[1] == 'x') {  // hex format (the default)
            out.resize((in.size() - 2) / 2);
            for (std::size_t k = 0; k < out.size(); ++k) {
                const int hi = hex_value(in[2 + 2 * k]);
                const int lo = hex_value(in[3 + 2 * k]);
                out[k] = static_cast<char>((hi << 4) | lo);
            }
            return out;
        }
        // bytea_output = escape: \\ for a backslash, \ooo for other bytes.
        out.clear();
        for (std::size_t k = 0; k < in.size(); ++k) {
            if (in[k] != '\\' || k + 1 >= in.size()) {
                out.push_back(in[k]);
            } else if (in[k + 1] == '\\') {
                out.push_back('\\');
                ++k;
            } else if (k + 3 < in.size()) {
                out.push_back(static_cast<char>(((in[k + 1] - '0') << 6) |
                                                ((in[k + 2] - '0') << 3) | (in[k + 3] - '0')));
                k += 3;
            }
        }
        return out;
    } catch (...) {
        return in;  // out of memory: the caller sees the raw text rather than a crash
    }
}

// ---- connecting -----------------------------------------------------------------------------

session::session()
    : cancel_(std::make_shared<detail::cancel_handle>()),
      graveyard_(std::make_shared<std::vector<std::string>>()) {}

void session::start_connect(const config& cfg) {
    close();
    std::vector<std::pair<std::string, std::string>> kv;
    std::string hosts;
    std::string ports;
    for (const endpoint& e : cfg.hosts) {
        if (!hosts.empty()) {
            hosts += ',';
            ports += ',';
        }
        hosts += e.host;
        ports += std::to_string(e.port != 0 ? e.port : 5432);
    }
    if (hosts.empty()) {
        hosts = "localhost";
        ports = "5432";
    }
    kv.emplace_back("host", hosts);
    kv.emplace_back("port", ports);
    kv.emplace_back("dbname", cfg.database);
    if (!cfg.user.empty()) kv.emplace_back("user", cfg.user);
    if (!cfg.password.empty()) kv.emplace_back("password", std::string(cfg.password.reveal()));
    kv.emplace_back("sslmode", std::string(to_string(cfg.tls.mode)));
    if (!cfg.tls.ca_file.empty()) kv.emplace_back("sslrootcert", cfg.tls.ca_file);
    if (!cfg.tls.cert_file.empty()) kv.emplace_back("sslcert", cfg.tls.cert_file);
    if (!cfg.tls.key_file.empty()) kv.emplace_back("sslkey", cfg.tls.key_file);
    if (!cfg.tls.crl_file.empty()) kv.emplace_back("sslcrl", cfg.tls.crl_file);
    kv.emplace_back("client_encoding", "UTF8");
    // libpq's per-host limit (whole seconds, at least 2); dal's own limit covers the total.
    const auto secs = std::max<std::int64_t>(2, (cfg.timeouts.connect.count() + 999) / 1000);
    kv.emplace_back("connect_timeout", std::to_string(secs));

    named_ = true;
    cancel_grace_ = std::chrono::milliseconds{2'000};
    std::string app = "dal";
    std::string user_options;
    for (const auto& [key, value] : cfg.options) {
        if (key == "named_statements") {
            named_ = parse_bool(key, value);
        } else if (key == "cancel_grace") {
            cancel_grace_ = parse_duration(value, "cancel_grace");
        } else if (key == "application_name") {
            app = value;
        } else if (key == "options") {
            user_options = value;
        } else if (std::find(passthrough_keywords.begin(), passthrough_keywords.end(), key) !=
                   passthrough_keywords.end()) {
            kv.emplace_back(key, value);
        } else {
            throw error(make_error_code(client_errc::invalid_config),
                        "unknown PostgreSQL option '" + key +
                            "' (dal options: named_statements, cancel_grace; libpq keywords: "
                            "application_name, target_session_attrs, options, keepalives..., "
                            "see docs/configuration.md)");
        }
    }
    kv.emplace_back("application_name", app);
    configured_timeout_ = millis(cfg.timeouts.statement);
    // The server-side limit, set at startup (no round trip). Behind pgbouncer in transaction
    // mode session settings would leak between clients, and the startup "options" are not
    // accepted there: the client-side deadline alone enforces the limit then.
    std::string options = user_options;
    if (named_ && configured_timeout_ > 0) {
        if (!options.empty()) options += ' ';
        options += "-c statement_timeout=" + std::to_string(configured_timeout_);
    }
    if (!options.empty()) kv.emplace_back("options", options);
    server_timeout_ = named_ ? configured_timeout_ : 0;
    connect_timeout_ = cfg.timeouts.connect;

    std::vector<const char*> keys;
    std::vector<const char*> values;
    for (const auto& [k, v] : kv) {
        keys.push_back(k.c_str());
        values.push_back(v.c_str());
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
    conn_.reset(PQconnectStartParams(keys.data(), values.data(), 0));
    target_ = hosts + " (port " + ports + "), database " + cfg.database;
    if (!conn_ || PQstatus(conn_.get()) == CONNECTION_BAD) {
        const error e = connect_error(conn_.get(), target_);
        conn_.reset();
        throw error(e);
    }
}

void session::open(const config& cfg) {
    start_connect(cfg);
    const deadline d = clock::now() + connect_timeout_;
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    while (st != PGRES_POLLING_OK) {
        if (st == PGRES_POLLING_FAILED) {
            const error e = connect_error(conn_.get(), target_);
            conn_.reset();
            throw error(e);
        }
        if (!wait_socket(st == PGRES_POLLING_WRITING, d)) {
            conn_.reset();
            throw timeout_error("connecting to " + target_ +
                                " took longer than the connect limit (" +
                                std::to_string(connect_timeout_.count()) + " ms)");
        }
        st = PQconnectPoll(conn_.get());
    }
    after_connect();
    if (const std::string setup = setup_sql(); !setup.empty()) run_simple(setup);
}

void session::after_connect() {
    PQsetnonblocking(conn_.get(), 1);
    // NOTICE and WARNING messages are not errors; libpq would print them on stderr.
    PQsetNoticeProcessor(
        conn_.get(), [](void* /*arg*/, const char* /*message*/) noexcept {}, nullptr);
    cancel_->set(PQgetCancel(conn_.get()));
    const char* v = PQparameterStatus(conn_.get(), "server_version");
    server_version_ = v != nullptr ? v : "";
    ++generation_;
    graveyard_->clear();
}

std::string session::setup_sql() const {
    // Dates are read in ISO form; a server configured otherwise is switched for this session.
    const char* ds = PQparameterStatus(conn_.get(), "DateStyle");
    if (ds != nullptr && std::string_view(ds).starts_with("ISO")) return {};
    return "SET DateStyle = ISO";
}

void session::close() noexcept {
    watchdog_.detach();
    active_deadline_ = deadline::max();
    socket_.detach();  // libpq owns the descriptor
    cancel_->clear();
    conn_.reset();
    graveyard_->clear();
}

server_info session::info() const {
    return {"postgresql", server_version_, driver_version()};
}

// ---- waiting --------------------------------------------------------------------------------

bool session::wait_socket(bool write, deadline until) {
    while (true) {
        pollfd p{};
        p.fd = PQsocket(conn_.get());
        p.events = static_cast<short>(write ? (POLLOUT | POLLIN) : POLLIN);
        int ms = -1;
        if (until != deadline::max()) {
            const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - clock::now());
            if (left.count() <= 0) return false;
            ms = static_cast<int>(std::min<std::int64_t>(left.count(), 1'000'000));
        }
        const int rc = ::poll(&p, 1, ms);
        if (rc > 0) return true;
        if (rc == 0) {
            if (until != deadline::max() && clock::now() >= until) return false;
            continue;
        }
        if (errno != EINTR)
            fail_connection("waiting for the server failed: " + std::string(std::strerror(errno)));
    }
}

deadline session::on_deadline() {
    if (!cancel_sent_) {
        cancel_sent_ = true;
        if (stop_.load() == stop_reason::none) stop_.store(stop_reason::deadline);
        wait_until_ = clock::now() + cancel_grace_;
        cancel_->send_and_wait(cancel_grace_);  // within the grace period, not beyond it
        return wait_until_;
    }
    close();
    throw timeout_error(
        "the statement ran past its deadline and the server did not answer the cancel request "
        "within " +
        std::to_string(cancel_grace_.count()) + " ms; the connection was closed");
}

void session::consume_input() {
    if (PQconsumeInput(conn_.get()) == 0) fail_connection(trimmed(PQerrorMessage(conn_.get())));
}

void session::flush_blocking() {
    while (true) {
        const int rc = PQflush(conn_.get());
        if (rc == 0) return;
        if (rc < 0) fail_connection(trimmed(PQerrorMessage(conn_.get())));
        if (!wait_socket(true, wait_until_)) on_deadline();
        consume_input();
    }
}

result_ptr session::next_result_blocking() {
    while (PQisBusy(conn_.get()) != 0) {
        if (!wait_socket(false, wait_until_)) {
            on_deadline();
            continue;
        }
        consume_input();
    }
    return result_ptr(PQgetResult(conn_.get()));
}

// ---- statements -----------------------------------------------------------------------------

void session::require_open() const {
    if (!conn_)
        throw error(make_error_code(client_errc::connection_closed),
                    "the PostgreSQL connection is closed");
}

void session::settle_cancel() {
    if (cancel_->settled()) return;
    const auto until = clock::now() + cancel_grace_;
    while (!cancel_->settled()) {
        if (clock::now() >= until) fail_unsettled_cancel();
        std::this_thread::sleep_for(std::chrono::milliseconds{1});
    }
}

boost::asio::awaitable<void> session::async_settle_cancel() {
    const auto until = clock::now() + cancel_grace_;
    boost::asio::steady_timer pause(co_await boost::asio::this_coro::executor);
    while (!cancel_->settled()) {
        if (clock::now() >= until) fail_unsettled_cancel();
        pause.expires_after(std::chrono::milliseconds{1});
        co_await pause.async_wait(boost::asio::use_awaitable);
    }
}

void session::fail_unsettled_cancel() {
    fail_connection(
        "a cancel request sent for an earlier statement was not delivered within "
        "cancel_grace (" +
        std::to_string(cancel_grace_.count()) +
        " ms); it could still land and cancel the next statement instead, so the connection "
        "was closed before sending it");
}

void session::begin_wait(deadline d) {
    settle_cancel();  // async callers have settled it without blocking already
    stop_.store(stop_reason::none);
    cancel_sent_ = false;
    give_up_ = false;
    wait_until_ = d;
}

deadline session::default_deadline() const {
    if (configured_timeout_ <= 0) return deadline::max();
    return clock::now() + std::chrono::milliseconds{configured_timeout_};
}

statement session::prepare(std::string_view sql) {
    require_open();
    if (!named_) return {{}, std::string(sql), generation_, graveyard_};
    std::string name = "dal_" + std::to_string(++next_name_);
    const std::string text(sql);
    current_sql_ = text;
    begin_wait(default_deadline());
    if (PQsendPrepare(conn_.get(), name.c_str(), text.c_str(), 0, nullptr) == 0)
        fail_connection(trimmed(PQerrorMessage(conn_.get())));
    flush_blocking();
    results_state rs;
    detail_ignore ignore;
    while (result_ptr r = next_result_blocking())
        consume(r, ignore, rs);
    check(rs);
    current_sql_ = {};  // `text` is going away
    return {std::move(name), text, generation_, graveyard_};
}

std::string session::pending_sql(deadline d) {
    // In an aborted transaction nothing runs until it ends: the DEALLOCATEs wait (sent now,
    // they would fail with it and be lost), and the statement itself reports the state.
    if (conn_ && PQtransactionStatus(conn_.get()) == PQTRANS_INERROR) return {};
    std::string sql;
    for (const std::string& name : *graveyard_)
        sql += "DEALLOCATE " + name + ";";
    graveyard_->clear();
    if (const auto limit = dal::detail::raised_server_limit(server_timeout_, d)) {
        const bool tx = in_transaction();  // SET LOCAL ends with the transaction
        sql += std::string(tx ? "SET LOCAL" : "SET") +
               " statement_timeout = " + std::to_string(*limit) + ";";
        if (!tx) server_timeout_ = *limit == 0 ? dal::detail::unlimited_server_limit : *limit;
    }
    return sql;
}

void session::describe_params(statement& st) {
    current_sql_ = st.sql_;
    begin_wait(default_deadline());
    if (PQsendDescribePrepared(conn_.get(), st.name_.c_str()) == 0)
        fail_connection(trimmed(PQerrorMessage(conn_.get())));
    flush_blocking();
    results_state rs;
    while (result_ptr r = next_result_blocking()) {
        if (PQresultStatus(r.get()) == PGRES_COMMAND_OK) {
            const int n = PQnparams(r.get());
            st.param_types_.resize(static_cast<std::size_t>(n));
            for (int k = 0; k < n; ++k)
                st.param_types_[static_cast<std::size_t>(k)] = PQparamtype(r.get(), k);
        } else {
            detail_ignore ignore;
            consume(r, ignore, rs);
        }
    }
    check(rs);
}

void session::check_params(statement& st, std::span<const param_ref> params) {
    for (std::size_t k = 0; k < params.size(); ++k) {
        const param_ref& p = params[k];
        if (p.type == param_ref::kind::text && p.bytes.find('\0') != std::string_view::npos)
            throw error(make_error_code(client_errc::unbindable_value),
                        "parameter " + std::to_string(k + 1) +
                            ": the text contains a NUL byte, which PostgreSQL text cannot "
                            "hold; bind it as a blob (bytea)");
        if (p.type == param_ref::kind::binary && named_) {
            if (st.param_types_.empty()) describe_params(st);
            if (k < st.param_types_.size() && st.param_types_[k] != bytea_oid)
                throw error(make_error_code(client_errc::unbindable_value),
                            "parameter " + std::to_string(k + 1) +
                                ": a blob can only be bound to a bytea parameter, and the "
                                "server expects type oid " +
                                std::to_string(st.param_types_[k]) + " here");
        }
    }
}

void session::encode(std::span<const param_ref> params) {
    const std::size_t n = params.size();
    values_.resize(n);
    lengths_.resize(n);
    formats_.resize(n);
    types_.resize(n);
    if (text_.size() < n) text_.resize(n);
    for (std::size_t k = 0; k < n; ++k) {
        const param_ref& p = params[k];
        std::string& t = text_[k];
        lengths_[k] = 0;
        formats_[k] = 0;
        types_[k] = 0;  // unknown: the server infers the type from the statement
        switch (p.type) {
            case param_ref::kind::null: values_[k] = nullptr; continue;
            case param_ref::kind::boolean: values_[k] = p.num.b ? "t" : "f"; continue;
            case param_ref::kind::int64:
            case param_ref::kind::uint64: {
                std::array<char, 24> buf{};
                const auto r = p.type == param_ref::kind::int64
                                   ? std::to_chars(buf.data(), buf.data() + buf.size(), p.num.i)
                                   : std::to_chars(buf.data(), buf.data() + buf.size(), p.num.u);
                t.assign(buf.data(), r.ptr);
                break;
            }
            case param_ref::kind::float64: {
                const double d = p.num.d;
                if (std::isnan(d)) {
                    t = "NaN";
                } else if (std::isinf(d)) {
                    t = d > 0 ? "Infinity" : "-Infinity";
                } else {
                    std::array<char, 32> buf{};
                    const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), d);
                    t.assign(buf.data(), r.ptr);
                }
                break;
            }
            case param_ref::kind::text: t.assign(p.bytes); break;
            case param_ref::kind::binary:
                values_[k] = p.bytes.data();
                lengths_[k] = static_cast<int>(p.bytes.size());
                formats_[k] = 1;
                types_[k] = bytea_oid;
                continue;
            case param_ref::kind::date_value: {
                std::array<char, 32> buf{};
                t.assign(buf.data(), dal::detail::format_date(p.day, buf.data()));
                break;
            }
            case param_ref::kind::timestamp_value: {
                std::array<char, 40> buf{};
                t.assign(buf.data(), dal::detail::format_timestamp(p.ts, buf.data()));
                t += "+00";  // UTC, whatever the session's TimeZone
                break;
            }
        }
        values_[k] = t.c_str();
    }
}

void session::send(statement& st, std::span<const param_ref> params) {
    if (st.generation_ != generation_) {
        diagnostics d;
        d.message = "the prepared statement belongs to an earlier connection";
        d.sqlstate = "26000";
        throw error(make_sqlstate_error("26000"), std::move(d));
    }
    if (params.size() > 65535)
        throw error(make_error_code(client_errc::unbindable_value),
                    "PostgreSQL accepts at most 65535 parameters per statement, got " +
                        std::to_string(params.size()));
    encode(params);
    const int n = static_cast<int>(params.size());
    const int ok = st.name_.empty()
                       ? PQsendQueryParams(conn_.get(), st.sql_.c_str(), n, types_.data(),
                                           values_.data(), lengths_.data(), formats_.data(), 0)
                       : PQsendQueryPrepared(conn_.get(), st.name_.c_str(), n, values_.data(),
                                             lengths_.data(), formats_.data(), 0);
    if (ok == 0) fail_connection(trimmed(PQerrorMessage(conn_.get())));
}

void session::start_statement(statement& st, std::span<const param_ref> params, deadline d) {
    require_open();
    check_params(st, params);
    if (const std::string pre = pending_sql(d); !pre.empty()) run_simple(pre);
    current_sql_ = st.sql_;
    begin_wait(d);
    send(st, params);
}

void session::other_result(result_ptr& r, results_state& rs) {
    switch (PQresultStatus(r.get())) {
        case PGRES_COMMAND_OK: {
            const char* n = PQcmdTuples(r.get());
            std::uint64_t v = 0;
            if (n != nullptr && *n != '\0') std::from_chars(n, n + std::strlen(n), v);
            rs.changed += v;
            const char* tag = PQcmdStatus(r.get());
            rs.tag = tag != nullptr ? tag : "";
            return;
        }
        case PGRES_EMPTY_QUERY: return;
        case PGRES_FATAL_ERROR:
        case PGRES_NONFATAL_ERROR:
        case PGRES_BAD_RESPONSE:
            if (!rs.error) rs.error = std::move(r);
            return;
        case PGRES_PIPELINE_ABORTED: rs.aborted = true; return;
        case PGRES_COPY_IN:
            // Ends the COPY at once; the server answers with an error that is reported.
            PQputCopyEnd(conn_.get(), "dal does not support COPY FROM STDIN; use execute_many");
            return;
        default:  // COPY OUT/BOTH: the protocol state cannot be recovered cheaply
            close();
            throw error(make_error_code(client_errc::feature_not_supported),
                        "dal does not support COPY TO STDOUT; the connection was closed");
    }
}

void session::describe(const PGresult* r) {
    const auto n = static_cast<std::size_t>(PQnfields(r));
    decoders_.resize(n);
    if (scratch_.size() < n) scratch_.resize(n);
    for (std::size_t c = 0; c < n; ++c)
        decoders_[c] = decoder_for(PQftype(r, static_cast<int>(c)));
}

error session::result_error(const PGresult* r) const {
    diagnostics d;
    const auto field = [r](int code) {
        const char* v = PQresultErrorField(r, code);
        return std::string(v != nullptr ? v : "");
    };
    d.message = field(PG_DIAG_MESSAGE_PRIMARY);
    if (d.message.empty()) d.message = trimmed(PQresultErrorMessage(r));
    d.sqlstate = field(PG_DIAG_SQLSTATE);
    d.detail = field(PG_DIAG_MESSAGE_DETAIL);
    d.hint = field(PG_DIAG_MESSAGE_HINT);
    if (const std::string pos = field(PG_DIAG_STATEMENT_POSITION); !pos.empty())
        std::from_chars(pos.data(), pos.data() + pos.size(), d.position);
    d.sql = sql::redacted(current_sql_, sql::postgresql_dialect);
    if (d.sqlstate.empty()) {
        // libpq's own errors (the connection broke) carry no SQLSTATE.
        const bool broken = !conn_ || PQstatus(conn_.get()) == CONNECTION_BAD;
        d.sqlstate = broken ? "08006" : "XX000";
    }
    if (d.sqlstate == "57014") {
        const stop_reason why = stop_.load();
        if (why == stop_reason::deadline ||
            (why == stop_reason::none &&
             d.message.find("statement timeout") != std::string::npos)) {
            d.message = "the statement ran past its deadline and was cancelled (" + d.message + ")";
            return error(make_error_code(client_errc::timeout), std::move(d));
        }
    }
    const std::error_code code = make_sqlstate_error(d.sqlstate);
    return error(code, std::move(d));
}

void session::check(results_state& rs) {
    if (rs.error) {
        const error e = result_error(rs.error.get());
        if (PQstatus(conn_.get()) == CONNECTION_BAD) close();
        throw error(e);
    }
    if (give_up_) {
        close();
        throw timeout_error(
            "the server did not answer the cancel request; the connection was closed");
    }
    if (rs.handler) std::rethrow_exception(rs.handler);
}

std::uint64_t session::finish(results_state& rs) {
    check(rs);
    return rs.changed;
}

void session::fail_connection(std::string_view what) {
    diagnostics d;
    d.message = std::string(what);
    d.sqlstate = "08006";
    d.sql = sql::redacted(current_sql_, sql::postgresql_dialect);
    close();
    throw error(make_sqlstate_error("08006"), std::move(d));
}

std::string session::run_simple(std::string_view sql) {
    require_open();
    simple_sql_ = std::string(sql);
    current_sql_ = simple_sql_;
    begin_wait(default_deadline());
    if (PQsendQuery(conn_.get(), simple_sql_.c_str()) == 0)
        fail_connection(trimmed(PQerrorMessage(conn_.get())));
    flush_blocking();
    results_state rs;
    detail_ignore ignore;
    while (result_ptr r = next_result_blocking())
        consume(r, ignore, rs);
    check(rs);
    return rs.tag;
}

void session::ping() {
    run_simple("");
}
void session::begin() {
    run_simple("BEGIN");
}
void session::commit() {
    check_commit(run_simple("COMMIT"));
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

void session::check_commit(std::string_view tag) {
    // COMMIT of a transaction an earlier error aborted "succeeds" with the tag ROLLBACK.
    if (tag == "ROLLBACK") {
        diagnostics d;
        d.message = "COMMIT found the transaction aborted by an earlier error; it was rolled back";
        d.sqlstate = "25P02";
        throw error(make_sqlstate_error("25P02"), std::move(d));
    }
}

// ---- pipelines ------------------------------------------------------------------------------

void session::enter_pipeline(std::span<statement* const> statements,
                             std::span<const std::span<const param_ref>> params, deadline d) {
    require_open();
    for (std::size_t k = 0; k < statements.size(); ++k)
        check_params(*statements[k], params[k]);
    if (const std::string pre = pending_sql(d); !pre.empty()) run_simple(pre);
    begin_wait(d);
    if (PQenterPipelineMode(conn_.get()) == 0)
        fail_connection(trimmed(PQerrorMessage(conn_.get())));
    for (std::size_t k = 0; k < statements.size(); ++k) {
        current_sql_ = statements[k]->sql_;
        send(*statements[k], params[k]);
        // Keep the output buffer from growing without bound on big pipelines.
        if (k % 64 == 63) flush_blocking();
    }
    if (PQpipelineSync(conn_.get()) == 0) fail_connection(trimmed(PQerrorMessage(conn_.get())));
    flush_blocking();
}

void session::leave_pipeline() {
    result_ptr r = next_result_blocking();
    if (!r || PQresultStatus(r.get()) != PGRES_PIPELINE_SYNC)
        fail_connection("the pipeline did not end with its sync point (protocol out of step)");
    if (PQexitPipelineMode(conn_.get()) == 0) fail_connection(trimmed(PQerrorMessage(conn_.get())));
}

pipeline_outcome session::outcome_of(results_state& rs, const statement& st) {
    pipeline_outcome out;
    current_sql_ = st.sql_;
    if (rs.error) {
        out.status = pipeline_outcome::state::failed;
        out.failure = result_error(rs.error.get());
    } else if (rs.aborted) {
        out.status = pipeline_outcome::state::not_executed;
        diagnostics d;
        d.message = "not executed: an earlier statement of the pipeline failed";
        d.sql = sql::redacted(current_sql_, sql::postgresql_dialect);
        out.failure = error(make_error_code(client_errc::not_executed), std::move(d));
    } else {
        out.status = pipeline_outcome::state::ok;
        out.changed = rs.changed;
    }
    return out;
}

// ---- async ----------------------------------------------------------------------------------

session::watch::watch(session& s, deadline d) : s_(s) {
    s.active_deadline_ = d;
    if (d != deadline::max()) s.watchdog_.arm(s.socket_.executor(), d);
}

session::watch::~watch() {
    s_.active_deadline_ = deadline::max();
    s_.watchdog_.disarm();
}

void session::on_watchdog() {
    if (active_deadline_ == deadline::max()) return;  // idle: stay unarmed
    const auto now = clock::now();
    if (now < active_deadline_) {
        watchdog_.rearm(active_deadline_);  // a later statement's deadline
        return;
    }
    if (!cancel_sent_) {
        // The deadline passed: ask the server to cancel (off the event loop: PQcancel blocks).
        cancel_sent_ = true;
        if (stop_.load() == stop_reason::none) stop_.store(stop_reason::deadline);
        cancel_->send();
        active_deadline_ = now + cancel_grace_;
        watchdog_.rearm(active_deadline_);
    } else {
        give_up_ = true;  // the server ignored the cancel: stop waiting for it
        socket_.cancel();
    }
}

void session::attach_socket(const executor_type& ex) {
    require_open();
    socket_.attach(ex, PQsocket(conn_.get()));
}

void session::after_wait(const boost::system::error_code& ec) {
    if (!ec) {
        consume_input();
        return;
    }
    if (give_up_) {
        close();
        throw timeout_error(
            "the statement ran past its deadline and the server did not answer the cancel "
            "request within " +
            std::to_string(cancel_grace_.count()) + " ms; the connection was closed");
    }
    fail_connection("waiting for the server failed: " + ec.message());
}

boost::asio::awaitable<void> session::async_flush() {
    while (true) {
        const int rc = PQflush(conn_.get());
        if (rc == 0) co_return;
        if (rc < 0) fail_connection(trimmed(PQerrorMessage(conn_.get())));
        auto [ec] =
            co_await socket_.get().async_wait(boost::asio::posix::descriptor_base::wait_write,
                                              boost::asio::as_tuple(boost::asio::use_awaitable));
        after_wait(ec);
    }
}

boost::asio::awaitable<result_ptr> session::async_next_result() {
    while (PQisBusy(conn_.get()) != 0) {
        auto [ec] =
            co_await socket_.get().async_wait(boost::asio::posix::descriptor_base::wait_read,
                                              boost::asio::as_tuple(boost::asio::use_awaitable));
        after_wait(ec);
    }
    co_return result_ptr(PQgetResult(conn_.get()));
}

boost::asio::awaitable<std::string> session::async_run_simple(std::string sql) {
    attach_socket(co_await boost::asio::this_coro::executor);
    if (!cancel_->settled()) co_await async_settle_cancel();
    simple_sql_ = std::move(sql);
    current_sql_ = simple_sql_;
    begin_wait(default_deadline());
    const watch guard(*this, wait_until_);
    if (PQsendQuery(conn_.get(), simple_sql_.c_str()) == 0)
        fail_connection(trimmed(PQerrorMessage(conn_.get())));
    co_await async_flush();
    results_state rs;
    detail_ignore ignore;
    while (result_ptr r = co_await async_next_result())
        consume(r, ignore, rs);
    check(rs);
    co_return rs.tag;
}

boost::asio::awaitable<statement> session::async_prepare(std::string sql) {
    if (!named_) co_return statement({}, std::move(sql), generation_, graveyard_);
    attach_socket(co_await boost::asio::this_coro::executor);
    if (!cancel_->settled()) co_await async_settle_cancel();
    std::string name = "dal_" + std::to_string(++next_name_);
    current_sql_ = sql;
    begin_wait(default_deadline());
    const watch guard(*this, wait_until_);
    if (PQsendPrepare(conn_.get(), name.c_str(), sql.c_str(), 0, nullptr) == 0)
        fail_connection(trimmed(PQerrorMessage(conn_.get())));
    co_await async_flush();
    results_state rs;
    detail_ignore ignore;
    while (result_ptr r = co_await async_next_result())
        consume(r, ignore, rs);
    check(rs);
    current_sql_ = {};  // `sql` is moved away
    co_return statement(std::move(name), std::move(sql), generation_, graveyard_);
}

boost::asio::awaitable<void> session::async_open(config cfg) {
    using namespace boost::asio::experimental::awaitable_operators;  // NOLINT: operator||
    start_connect(cfg);
    auto ex = co_await boost::asio::this_coro::executor;
    const deadline d = clock::now() + connect_timeout_;
    boost::asio::steady_timer timer(ex);
    timer.expires_at(d);
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    while (st != PGRES_POLLING_OK) {
        if (st == PGRES_POLLING_FAILED) {
            const error e = connect_error(conn_.get(), target_);
            conn_.reset();
            throw error(e);
        }
        const auto which = st == PGRES_POLLING_WRITING
                               ? boost::asio::posix::descriptor_base::wait_write
                               : boost::asio::posix::descriptor_base::wait_read;
        std::variant<std::monostate, std::monostate> r;
        {
            // The descriptor may change between polls (next host, SSL retry): wait on a
            // temporary view of the current one, released (not closed) before libpq may close
            // it. Released later, it would deregister a number another thread's new socket
            // may already have on the same epoll set, and that socket's wait would never end.
            boost::asio::posix::stream_descriptor sd(ex, PQsocket(conn_.get()));
            const detail::descriptor_view release_it(sd);
            r = co_await (sd.async_wait(which, boost::asio::use_awaitable) ||
                          timer.async_wait(boost::asio::use_awaitable));
        }
        if (r.index() == 1) {
            conn_.reset();
            throw timeout_error("connecting to " + target_ +
                                " took longer than the connect limit (" +
                                std::to_string(connect_timeout_.count()) + " ms)");
        }
        st = PQconnectPoll(conn_.get());
    }
    after_connect();
    if (std::string setup = setup_sql(); !setup.empty())
        co_await async_run_simple(std::move(setup));
}

}  // namespace dal::postgres
