// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
// Compiled once into dal::dal (see CMakeLists.txt); not a public header.

#include <algorithm>
#include <charconv>
#include <ostream>
#include <string>

#include <boost/url/authority_view.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <dal/config.hpp>
#include <dal/error.hpp>

namespace dal {

std::ostream& operator<<(std::ostream& os, const secret& s) {
    return os << (s.empty() ? std::string_view{} : secret::mask);
}

std::string_view to_string(backend_kind k) noexcept {
    switch (k) {
        case backend_kind::postgresql: return "postgresql";
        case backend_kind::mysql: return "mysql";
        case backend_kind::sqlite: return "sqlite";
    }
    return "unknown";
}

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](char c) {
        return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    });
    return out;
}

}  // namespace

std::optional<backend_kind> parse_backend_kind(std::string_view name) noexcept {
    // Only short ASCII names are valid: avoid allocating for anything longer.
    if (name.size() > 16) return std::nullopt;
    char buf[16]{};
    for (std::size_t k = 0; k < name.size(); ++k) {
        const char c = name[k];
        buf[k] = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    }
    const std::string_view n(buf, name.size());
    if (n == "postgresql" || n == "postgres" || n == "pg") return backend_kind::postgresql;
    if (n == "mysql" || n == "mariadb") return backend_kind::mysql;
    if (n == "sqlite" || n == "sqlite3") return backend_kind::sqlite;
    return std::nullopt;
}

std::uint16_t default_port(backend_kind k) noexcept {
    switch (k) {
        case backend_kind::postgresql: return 5432;
        case backend_kind::mysql: return 3306;
        case backend_kind::sqlite: return 0;
    }
    return 0;
}

std::string_view to_string(tls_mode m) noexcept {
    switch (m) {
        case tls_mode::disable: return "disable";
        case tls_mode::allow: return "allow";
        case tls_mode::prefer: return "prefer";
        case tls_mode::require: return "require";
        case tls_mode::verify_ca: return "verify-ca";
        case tls_mode::verify_full: return "verify-full";
    }
    return "unknown";
}

namespace {

[[noreturn]] void bad_uri(std::string_view masked_uri, const std::string& what) {
    std::string msg = "in URI '";
    msg += masked_uri;
    msg += "': ";
    msg += what;
    throw error(make_error_code(client_errc::invalid_uri), std::move(msg));
}

[[noreturn]] void bad_config(const std::string& what) {
    throw error(make_error_code(client_errc::invalid_config), what);
}

/// Decodes %XX escapes (leaving malformed ones as they are): for comparing parameter names.
std::string pct_decode(std::string_view s) {
    const auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string out;
    for (std::size_t k = 0; k < s.size(); ++k) {
        if (s[k] == '%' && k + 2 < s.size() && hex(s[k + 1]) >= 0 && hex(s[k + 2]) >= 0) {
            out += static_cast<char>(hex(s[k + 1]) * 16 + hex(s[k + 2]));
            k += 2;
        } else {
            out += s[k];
        }
    }
    return out;
}

}  // namespace

bool is_sensitive_option(std::string_view key) noexcept {
    const auto contains = [key](std::string_view word) {  // ASCII case-insensitive, no allocation
        for (std::size_t k = 0; k + word.size() <= key.size(); ++k) {
            std::size_t n = 0;
            while (n < word.size()) {
                char c = key[k + n];
                if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
                if (c != word[n]) break;
                ++n;
            }
            if (n == word.size()) return true;
        }
        return false;
    };
    return contains("password") || contains("secret") || contains("passphrase");
}

namespace {

/// The URI with its secrets replaced by `***`, so that an error about the URI can quote it.
/// Masks generously: from the first ':' after "//" up to the last '@' anywhere (a password
/// may hold an unencoded '/', '?' or '#'), and the value of every parameter whose decoded name
/// says password, secret or passphrase.
std::string mask_uri(std::string_view uri) {
    std::string out(uri);
    const auto scheme_colon = out.find(':');
    if (scheme_colon != std::string::npos) {
        // With or without the "//" that should follow the scheme.
        const std::size_t auth_begin =
            out.compare(scheme_colon, 3, "://") == 0 ? scheme_colon + 3 : scheme_colon + 1;
        const std::size_t at = out.rfind('@');
        if (at != std::string::npos && at >= auth_begin) {
            const std::size_t colon = out.find(':', auth_begin);
            if (colon != std::string::npos && colon < at)
                out.replace(colon + 1, at - colon - 1, secret::mask);
        }
    }
    std::size_t q = out.find('?');
    while (q != std::string::npos && q < out.size()) {
        const std::size_t key = q + 1;
        std::size_t amp = out.find('&', key);
        if (amp == std::string::npos) amp = out.size();
        const std::size_t eq = out.find('=', key);
        if (eq != std::string::npos && eq < amp &&
            is_sensitive_option(pct_decode(std::string_view(out).substr(key, eq - key)))) {
            out.replace(eq + 1, amp - eq - 1, secret::mask);
            amp = eq + 1 + secret::mask.size();
        }
        q = amp < out.size() ? amp : std::string::npos;
    }
    return out;
}

std::uint16_t parse_port(std::string_view text, std::string_view masked) {
    unsigned value = 0;
    const auto* first = text.data();
    const auto* last = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(first, last, value);
    if (text.empty() || ec != std::errc{} || ptr != last || value == 0 || value > 65535)
        bad_uri(masked, "port '" + std::string(text) + "' is not a number from 1 to 65535");
    return static_cast<std::uint16_t>(value);
}

std::size_t parse_count(std::string_view key, std::string_view text, std::string_view masked) {
    std::size_t value = 0;
    const auto* last = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), last, value);
    if (text.empty() || ec != std::errc{} || ptr != last || value > 100'000)
        bad_uri(masked, "parameter '" + std::string(key) + "' has value '" + std::string(text) +
                            "', expected a whole number from 0 to 100000");
    return value;
}

tls_mode parse_tls_mode(std::string_view text, std::string_view masked) {
    std::string v = lower(text);
    std::replace(v.begin(), v.end(), '_', '-');
    if (v == "disable" || v == "disabled" || v == "false" || v == "0") return tls_mode::disable;
    if (v == "allow") return tls_mode::allow;
    if (v == "prefer" || v == "preferred") return tls_mode::prefer;
    if (v == "require" || v == "required" || v == "true" || v == "1") return tls_mode::require;
    if (v == "verify-ca") return tls_mode::verify_ca;
    if (v == "verify-full" || v == "verify-identity") return tls_mode::verify_full;
    bad_uri(masked, "TLS mode '" + std::string(text) +
                        "' is not one of disable, allow, prefer, require, verify-ca, verify-full "
                        "(or MySQL's DISABLED, PREFERRED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY)");
}

/// Applies one query parameter; unknown keys are kept as backend options.
/// One spelling per setting, so that `sslmode=require&tls=disable` is caught as a duplicate.
std::string canonical_key(std::string key) {
    struct alias {
        std::string_view name;
        std::string_view canonical;
    };
    static constexpr alias aliases[] = {
        {"ssl_mode", "sslmode"},
        {"tls", "sslmode"},
        {"ssl_ca", "sslrootcert"},
        {"tls_ca", "sslrootcert"},
        {"ssl_cert", "sslcert"},
        {"tls_cert", "sslcert"},
        {"ssl_key", "sslkey"},
        {"tls_key", "sslkey"},
        {"ssl_crl", "sslcrl"},
        {"tls_crl", "sslcrl"},
        {"acquire_timeout", "acquisition_timeout"},
        {"min_pool_size", "pool_min"},
        {"max_pool_size", "pool_max"},
    };
    for (const auto& a : aliases)
        if (key == a.name) return std::string(a.canonical);
    return key;
}

void apply_param(config& c, std::string_view raw_key, std::string_view value,
                 std::string_view masked, std::vector<std::string>& seen) {
    std::string key = lower(raw_key);
    std::replace(key.begin(), key.end(), '-', '_');
    if (key.empty()) bad_uri(masked, "a query parameter has an empty name");
    key = canonical_key(std::move(key));
    if (std::find(seen.begin(), seen.end(), key) != seen.end())
        bad_uri(masked, "parameter '" + std::string(raw_key) +
                            "' is given twice (or under two of its names)");
    seen.push_back(key);
    if (key == "host" || key == "hostaddr" || key == "port" || key == "dbname" || key == "database")
        bad_uri(masked, "parameter '" + std::string(raw_key) +
                            "' is not accepted: write hosts, ports and the database in the URI "
                            "itself (scheme://user@host:port,host2:port/dbname)");

    const auto duration = [&](std::string_view what) {
        try {
            return parse_duration(value, what);
        } catch (const error& e) {
            bad_uri(masked, e.diag().message);
        }
    };
    if (key == "password") {
        if (!c.password.empty())
            bad_uri(masked, "the password is given both in the user part and as a parameter");
        c.password = secret{std::string(value)};
    } else if (key == "user") {
        if (!c.user.empty())
            bad_uri(masked, "the user is given both in the user part and as a parameter");
        c.user = std::string(value);
    } else if (key == "sslmode") {
        c.tls.mode = parse_tls_mode(value, masked);
    } else if (key == "sslrootcert") {
        c.tls.ca_file = std::string(value);
    } else if (key == "sslcert") {
        c.tls.cert_file = std::string(value);
    } else if (key == "sslkey") {
        c.tls.key_file = std::string(value);
    } else if (key == "sslcrl") {
        c.tls.crl_file = std::string(value);
    } else if (key == "connect_timeout") {
        c.timeouts.connect = duration("connect_timeout");
    } else if (key == "pool_creation_timeout") {
        c.timeouts.pool_creation = duration("pool_creation_timeout");
    } else if (key == "acquisition_timeout") {
        c.timeouts.acquisition = duration("acquisition_timeout");
    } else if (key == "statement_timeout") {
        c.timeouts.statement = duration("statement_timeout");
    } else if (key == "operation_timeout") {
        c.timeouts.operation = duration("operation_timeout");
    } else if (key == "pool_min") {
        c.pool.min = parse_count(raw_key, value, masked);
    } else if (key == "pool_max") {
        c.pool.max = parse_count(raw_key, value, masked);
    } else if (key == "expected_concurrency") {
        c.pool.expected_concurrency = parse_count(raw_key, value, masked);
    } else if (key == "alias") {
        c.alias = std::string(value);
    } else if (key == "env") {
        c.env = std::string(value);
    } else {
        c.options.emplace_back(std::move(key), std::string(value));
    }
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`. The port is split off first so that a bad one
/// is named as such; the host is validated by Boost.URL's authority grammar.
endpoint parse_endpoint(std::string_view text, std::string_view masked) {
    if (text.empty()) bad_uri(masked, "a host in the host list is empty");
    std::string_view host = text;
    std::string_view port;
    const std::size_t close = text.rfind(']');
    const std::size_t colon = text.rfind(':');
    if (colon != std::string_view::npos && (close == std::string_view::npos || colon > close)) {
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (text.front() != '[' && host.find(':') != std::string_view::npos)
            bad_uri(masked, "host '" + std::string(text) +
                                "' looks like an IPv6 address: write it in brackets, [::1]:5432");
    }
    auto rv = boost::urls::parse_authority(host);
    if (host.empty() || !rv || rv->has_userinfo() || rv->has_port())
        bad_uri(masked, "host '" + std::string(host) + "' is not a valid host name or address");
    endpoint ep;
    ep.host = rv->host_address();  // percent-decoded; IPv6 without brackets
    if (ep.host.empty()) bad_uri(masked, "host '" + std::string(text) + "' has no host name");
    if (colon != std::string_view::npos && (close == std::string_view::npos || colon > close))
        ep.port = parse_port(port, masked);
    return ep;
}

config parse_sqlite(std::string_view uri, std::string_view rest, std::string_view masked) {
    config c;
    c.backend = backend_kind::sqlite;
    c.env = "prod";
    // `sqlite::memory:` and `sqlite://:memory:`: SQLite's own name for a private in-memory db.
    std::string_view target = rest;
    std::string_view query;
    if (const auto qpos = target.find('?'); qpos != std::string_view::npos) {
        query = target.substr(qpos + 1);
        target = target.substr(0, qpos);
    }
    if (target == ":memory:" || target == "//:memory:") {
        c.database = ":memory:";
    } else {
        auto rv = boost::urls::parse_uri(uri);
        if (!rv) bad_uri(masked, "not a valid URI (" + rv.error().message() + ")");
        const auto& u = *rv;
        if (u.has_userinfo() || (u.has_authority() && !u.encoded_host().empty()) || u.has_port())
            bad_uri(masked,
                    "an sqlite URI names a file: write sqlite:///absolute/path.db, "
                    "sqlite:relative/path.db or sqlite::memory:, without host, user or password");
        if (u.has_fragment()) bad_uri(masked, "a '#' fragment is not allowed");
        c.database = u.path();
        if (c.database.empty()) bad_uri(masked, "the database file path is empty");
    }
    std::vector<std::string> seen;
    if (!query.empty()) {
        // url_view points into the string it parsed: keep that string alive while iterating.
        const std::string query_uri = "sqlite:x?" + std::string(query);
        auto rv = boost::urls::parse_uri(query_uri);
        if (!rv) bad_uri(masked, "the query part is not valid (" + rv.error().message() + ")");
        for (const auto& p : rv->params())
            apply_param(c, p.key, p.value, masked, seen);
    }
    if (!c.user.empty() || !c.password.empty())
        bad_uri(masked, "an SQLite database has no users: remove the user and password");
    c.validate();
    return c;
}

}  // namespace

std::chrono::milliseconds parse_duration(std::string_view text, std::string_view what) {
    const auto fail = [&]() -> std::chrono::milliseconds {
        throw error(make_error_code(client_errc::invalid_config),
                    "'" + std::string(what) + "' has value '" + std::string(text) +
                        "', expected a duration such as 250ms, 5s, 2min or 1h (a bare number "
                        "means seconds)");
    };
    std::uint64_t number = 0;
    const char* first = text.data();
    const char* last = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(first, last, number);
    if (text.empty() || ec != std::errc{} || ptr == first) return fail();
    const std::string unit = lower(std::string_view(ptr, static_cast<std::size_t>(last - ptr)));
    std::uint64_t ms = 0;
    constexpr auto limit = static_cast<std::uint64_t>(longest_time_limit.count());  // in ms
    if (number > limit) return fail();
    if (unit.empty() || unit == "s" || unit == "sec")
        ms = number * 1000;
    else if (unit == "ms")
        ms = number;
    else if (unit == "us")
        ms = (number + 999) / 1000;  // never round a limit down to zero
    else if (unit == "min" || unit == "m")
        ms = number * 60'000;
    else if (unit == "h")
        ms = number * 3'600'000;
    else
        return fail();
    // The limit applies to the result too ("1099511627776h" is 125 million years).
    if (ms > limit) return fail();
    return std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(ms));
}

config config::from_uri(std::string_view uri) {
    const std::string masked = mask_uri(uri);
    const auto colon = uri.find(':');
    if (colon == std::string_view::npos || colon == 0)
        bad_uri(masked, "no scheme: expected postgresql://, mysql:// or sqlite:");
    const std::string_view scheme = uri.substr(0, colon);
    const auto kind = parse_backend_kind(scheme);
    if (!kind)
        bad_uri(masked,
                "unknown scheme '" + std::string(scheme) +
                    "': expected postgresql (postgres, pg), mysql (mariadb) or sqlite (sqlite3)");
    if (*kind == backend_kind::sqlite) return parse_sqlite(uri, uri.substr(colon + 1), masked);

    if (uri.substr(colon, 3) != "://") bad_uri(masked, "expected '//' after the scheme");
    // libpq's multi-host form (h1:5432,h2:5433) is not RFC 3986: split the host list off
    // before handing one host to Boost.URL.
    const std::size_t auth_begin = colon + 3;
    std::size_t auth_end = uri.find_first_of("/?#", auth_begin);
    if (auth_end == std::string_view::npos) auth_end = uri.size();
    const std::string_view authority = uri.substr(auth_begin, auth_end - auth_begin);
    const std::size_t at = authority.rfind('@');
    const std::string_view host_list =
        at == std::string_view::npos ? authority : authority.substr(at + 1);
    std::vector<endpoint> hosts;
    std::string single(uri);
    if (!host_list.empty()) {
        std::size_t start = 0;
        while (true) {
            // IPv6 literals hold ':' but never ','.
            const std::size_t comma = host_list.find(',', start);
            hosts.push_back(parse_endpoint(host_list.substr(start, comma - start), masked));
            if (comma == std::string_view::npos) break;
            start = comma + 1;
        }
        const std::size_t hl_begin = auth_begin + (at == std::string_view::npos ? 0 : at + 1);
        single.replace(hl_begin, host_list.size(), "h");  // a placeholder host for Boost.URL
    }

    auto rv = boost::urls::parse_uri(single);
    if (!rv) bad_uri(masked, "not a valid URI (" + rv.error().message() + ")");
    const auto& u = *rv;
    if (u.has_fragment()) bad_uri(masked, "a '#' fragment is not allowed");

    config c;
    c.backend = *kind;
    c.hosts = std::move(hosts);
    if (u.has_userinfo()) {
        c.user = u.user();
        if (u.has_password()) c.password = secret{u.password()};
    }
    std::string path = u.path();
    if (!path.empty() && path.front() == '/') path.erase(0, 1);
    if (path.find('/') != std::string::npos)
        bad_uri(masked, "database name '" + path + "' contains '/': the path must be /dbname");
    if (path.empty())
        bad_uri(masked, "the database name is missing: expected " + std::string(scheme) +
                            "://user@host:port/dbname");
    c.database = std::move(path);
    std::vector<std::string> seen;
    for (const auto& p : u.params())
        apply_param(c, p.key, p.value, masked, seen);
    c.validate();
    return c;
}

std::string_view config::host() const noexcept {
    return hosts.empty() ? std::string_view("localhost") : std::string_view(hosts.front().host);
}

std::uint16_t config::port() const noexcept {
    if (!hosts.empty() && hosts.front().port != 0) return hosts.front().port;
    return default_port(backend);
}

std::string_view config::effective_alias() const noexcept {
    return alias.empty() ? std::string_view(database) : std::string_view(alias);
}

std::optional<std::string_view> config::option(std::string_view key) const noexcept {
    for (const auto& [k, v] : options)
        if (k == key) return std::string_view(v);
    return std::nullopt;
}

namespace {

/// Length-prefixed fields: no choice of characters in one field can imitate another field.
void add_field(std::string& out, std::string_view name, std::string_view value) {
    out += name;
    out += '=';
    out += std::to_string(value.size());
    out += ':';
    out += value;
    out += ';';
}

}  // namespace

std::string config::identity() const {
    std::string out;
    add_field(out, "backend", dal::to_string(backend));
    if (backend == backend_kind::sqlite) {
        add_field(out, "file", database);
    } else {
        if (hosts.empty()) {
            add_field(out, "host", "localhost");
            add_field(out, "port", std::to_string(default_port(backend)));
        }
        for (const auto& h : hosts) {
            add_field(out, "host", lower(h.host));  // host names are case-insensitive
            add_field(out, "port", std::to_string(h.port != 0 ? h.port : default_port(backend)));
        }
        add_field(out, "database", database);
        add_field(out, "user", user);
        add_field(out, "tls", dal::to_string(tls.mode));
        add_field(out, "tls_ca", tls.ca_file);
        add_field(out, "tls_cert", tls.cert_file);
        add_field(out, "tls_key", tls.key_file);
        add_field(out, "tls_crl", tls.crl_file);
    }
    auto sorted = options;  // order of parameters in a URI must not matter
    std::sort(sorted.begin(), sorted.end());
    for (const auto& [k, v] : sorted)  // secrets (sslpassword...) never reach the identity
        add_field(out, "option:" + k, is_sensitive_option(k) ? std::string_view("<secret>") : v);
    return out;
}

std::uint64_t config::hash() const {
    // FNV-1a: fixed constants, no seed, so the value is the same in every process and build.
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (const char ch : identity()) {
        h ^= static_cast<unsigned char>(ch);
        h *= 0x100000001b3ULL;
    }
    return h;
}

std::string config::hash_hex() const {
    static constexpr char digits[] = "0123456789abcdef";
    std::uint64_t h = hash();
    std::string out(16, '0');
    for (int k = 15; k >= 0; --k) {
        out[static_cast<std::size_t>(k)] = digits[h & 0xF];
        h >>= 4;
    }
    return out;
}

namespace {

/// Percent-encodes everything but RFC 3986 unreserved characters (and '/' in paths).
std::string pct(std::string_view s, bool keep_slash = false) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (const char ch : s) {
        const auto u = static_cast<unsigned char>(ch);
        const bool unreserved = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') ||
                                (u >= '0' && u <= '9') || u == '-' || u == '.' || u == '_' ||
                                u == '~' || (keep_slash && u == '/');
        if (unreserved) {
            out += ch;
        } else {
            out += '%';
            out += hex[u >> 4];
            out += hex[u & 0xF];
        }
    }
    return out;
}

std::string format_ms(std::chrono::milliseconds d) {
    const auto ms = d.count();
    if (ms != 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
    return std::to_string(ms) + "ms";
}

}  // namespace

std::string config::to_string() const {
    std::string out(dal::to_string(backend));
    if (backend == backend_kind::sqlite) {
        out += database == ":memory:" ? ":" : (database.starts_with('/') ? "://" : ":");
        out += database == ":memory:" ? database : pct(database, true);
    } else {
        out += "://";
        if (!user.empty() || !password.empty()) {
            out += pct(user);
            if (!password.empty()) {
                out += ':';
                out += secret::mask;
            }
            out += '@';
        }
        if (hosts.empty()) out += "localhost";
        for (std::size_t k = 0; k < hosts.size(); ++k) {
            if (k != 0) out += ',';
            const bool v6 = hosts[k].host.find(':') != std::string::npos;
            out += v6 ? "[" + hosts[k].host + "]" : pct(hosts[k].host);
            if (hosts[k].port != 0) out += ':' + std::to_string(hosts[k].port);
        }
        out += '/';
        out += pct(database);
    }
    char sep = '?';
    const auto param = [&](std::string_view k, std::string_view v) {
        out += sep;
        sep = '&';
        out += k;
        out += '=';
        out += v == secret::mask ? std::string(v) : pct(v, true);  // the mask prints as itself
    };
    const time_limits defaults{};
    if (backend != backend_kind::sqlite && tls.mode != tls_mode::prefer)
        param("sslmode", dal::to_string(tls.mode));
    if (!tls.ca_file.empty()) param("sslrootcert", tls.ca_file);
    if (!tls.cert_file.empty()) param("sslcert", tls.cert_file);
    if (!tls.key_file.empty()) param("sslkey", tls.key_file);
    if (!tls.crl_file.empty()) param("sslcrl", tls.crl_file);
    if (timeouts.connect != defaults.connect) param("connect_timeout", format_ms(timeouts.connect));
    if (timeouts.pool_creation != defaults.pool_creation)
        param("pool_creation_timeout", format_ms(timeouts.pool_creation));
    if (timeouts.acquisition != defaults.acquisition)
        param("acquisition_timeout", format_ms(timeouts.acquisition));
    if (timeouts.statement != defaults.statement)
        param("statement_timeout", format_ms(timeouts.statement));
    if (timeouts.operation != defaults.operation)
        param("operation_timeout", format_ms(timeouts.operation));
    const pool_sizes pool_defaults{};
    if (pool.min != pool_defaults.min) param("pool_min", std::to_string(pool.min));
    if (pool.max != pool_defaults.max) param("pool_max", std::to_string(pool.max));
    if (pool.expected_concurrency != 0)
        param("expected_concurrency", std::to_string(pool.expected_concurrency));
    if (!alias.empty()) param("alias", alias);
    if (env != "prod") param("env", env);
    for (const auto& [k, v] : options)
        param(pct(k), is_sensitive_option(k) ? secret::mask : std::string_view(v));
    return out;
}

void config::validate() const {
    const auto positive = [](std::chrono::milliseconds d, const char* name) {
        if (d.count() <= 0)
            bad_config(std::string("time limit '") + name +
                       "' must be positive: a zero or negative limit would wait forever or "
                       "never");
    };
    positive(timeouts.connect, "connect");
    positive(timeouts.pool_creation, "pool_creation");
    positive(timeouts.acquisition, "acquisition");
    if (timeouts.statement.count() < 0) bad_config("time limit 'statement' is negative");
    if (timeouts.operation.count() < 0) bad_config("time limit 'operation' is negative");
    for (const auto& [d, name] :
         {std::pair{timeouts.connect, "connect"},
          std::pair{timeouts.pool_creation, "pool_creation"},
          std::pair{timeouts.acquisition, "acquisition"},
          std::pair{timeouts.statement, "statement"}, std::pair{timeouts.operation, "operation"}})
        if (d > longest_time_limit)
            bad_config(std::string("time limit '") + name +
                       "' is longer than 35 years (statement and operation: 0 means no limit)");
    if (pool.max != 0 && pool.min > pool.max)
        bad_config("pool min (" + std::to_string(pool.min) + ") is larger than pool max (" +
                   std::to_string(pool.max) + ")");
    if (database.empty()) bad_config("the database name (SQLite: file path) is empty");
    if (database.find('\0') != std::string::npos)
        bad_config("the database name contains a NUL byte");
    for (const auto& h : hosts)
        if (h.host.empty()) bad_config("a host name is empty");
    if (backend == backend_kind::sqlite && !hosts.empty())
        bad_config("an SQLite database is a file: hosts must be empty");
}

std::ostream& operator<<(std::ostream& os, const config& c) {
    return os << c.to_string();
}

}  // namespace dal
