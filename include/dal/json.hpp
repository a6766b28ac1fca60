// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
#pragma once
/// \file
/// JSON columns as `boost::json::value` (link Boost::json). PostgreSQL json/jsonb, MySQL JSON
/// and SQLite text holding JSON are read and bound through their text form, so the server
/// validates what is stored and the reader reports malformed JSON with the column's name:
///
///     auto doc = db.query_one<boost::json::value>("SELECT [doc] FROM [events] WHERE [id] = ?"_sql,
///     7); db.execute("INSERT INTO [events] ([doc]) VALUES (?)"_sql, boost::json::value{{"k", 1}});

#include <string>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <dal/error.hpp>
#include <dal/types.hpp>

namespace dal {

template <>
struct type_traits<boost::json::value> {
    using db_type = std::string;
    static std::string to_db(const boost::json::value& v) { return boost::json::serialize(v); }
    static boost::json::value from_db(const std::string& s) {
        boost::system::error_code ec;
        boost::json::value v = boost::json::parse(s, ec);
        if (ec)
            throw error(make_error_code(client_errc::type_mismatch),
                        "a column read as JSON does not hold valid JSON: " + ec.message());
        return v;
    }
};

}  // namespace dal
