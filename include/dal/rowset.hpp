// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
#pragma once
/// \file
/// A materialised result read column by column: `rs[0].get<int>(0)`,
/// `rs[0].get<std::string>("name")`. For the typed fast path (no copy of the values) use
/// `query<T>`; a rowset is for results whose shape is known only at run time, and for the
/// type-erased `dal::any_connection`.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <dal/row.hpp>
#include <dal/value.hpp>

namespace dal {

class rowset {
public:
    class row {
    public:
        [[nodiscard]] std::size_t size() const noexcept { return set_->names_.size(); }
        [[nodiscard]] std::string_view name(std::size_t i) const { return set_->names_.at(i); }
        [[nodiscard]] field_view field(std::size_t i) const {
            if (i >= size())
                detail::throw_shape_mismatch("column index " + std::to_string(i) +
                                             " is out of range (the result has " +
                                             std::to_string(size()) + " columns)");
            field_view f = set_->cells_[index_ * size() + i];
            f.column = set_->names_[i];
            return f;
        }
        /// Column `i` as `T` (NULL only into std::optional).
        template <class T>
        [[nodiscard]] T get(std::size_t i) const {
            return from_field<T>(field(i));
        }
        /// The column named `column` as `T`.
        template <class T>
        [[nodiscard]] T get(std::string_view column) const {
            return from_field<T>(field(set_->column_index(column)));
        }
        /// The whole row as a tuple or reflected struct.
        template <class T>
        [[nodiscard]] T as() const {
            return row_reader<T>(*this).read(*this);
        }

    private:
        friend class rowset;
        row(const rowset* s, std::size_t index) noexcept : set_(s), index_(index) {}
        const rowset* set_;
        std::size_t index_;
    };

    [[nodiscard]] std::size_t size() const noexcept { return rows_; }
    [[nodiscard]] bool empty() const noexcept { return rows_ == 0; }
    [[nodiscard]] std::size_t columns() const noexcept { return names_.size(); }
    [[nodiscard]] const std::vector<std::string>& column_names() const noexcept { return names_; }
    [[nodiscard]] row operator[](std::size_t k) const {
        if (k >= rows_)
            detail::throw_shape_mismatch("row " + std::to_string(k) + " of " +
                                         std::to_string(rows_) + " requested");
        return {this, k};
    }
    /// Rows changed by an INSERT, UPDATE or DELETE.
    [[nodiscard]] std::uint64_t affected_rows() const noexcept { return affected_; }

    class iterator {
    public:
        using value_type = row;
        using difference_type = std::ptrdiff_t;
        row operator*() const { return set_->operator[](k_); }
        iterator& operator++() {
            ++k_;
            return *this;
        }
        iterator operator++(int) {
            iterator t = *this;
            ++k_;
            return t;
        }
        bool operator==(const iterator&) const = default;

    private:
        friend class rowset;
        iterator(const rowset* s, std::size_t k) : set_(s), k_(k) {}
        const rowset* set_ = nullptr;
        std::size_t k_ = 0;
    };
    [[nodiscard]] iterator begin() const { return {this, 0}; }
    [[nodiscard]] iterator end() const { return {this, rows_}; }

    /// Appends one row of a backend result (copying its values). Used by connections.
    template <row_source Row>
    void append(const Row& r) {
        if (names_.empty() && rows_ == 0)
            for (std::size_t c = 0; c < r.size(); ++c)
                names_.emplace_back(r.name(c));
        for (std::size_t c = 0; c < r.size(); ++c) {
            field_view f = r.field(c);
            // Keep an offset now; views are fixed up in seal() once the arena stops growing.
            pending_.push_back(f.bytes.size());
            offsets_.push_back(arena_.size());
            arena_.append(f.bytes);
            f.bytes = {};
            f.column = {};
            f.name_of = nullptr;
            f.source = nullptr;
            cells_.push_back(f);
        }
        ++rows_;
    }
    void set_affected_rows(std::uint64_t n) noexcept { affected_ = n; }
    /// Makes the copied text and blob values viewable; call once after the last append.
    void seal() noexcept {
        for (std::size_t k = 0; k < cells_.size(); ++k)
            if (cells_[k].type == field_view::kind::text ||
                cells_[k].type == field_view::kind::binary ||
                cells_[k].type == field_view::kind::decimal ||
                cells_[k].type == field_view::kind::array)
                cells_[k].bytes = std::string_view(arena_).substr(offsets_[k], pending_[k]);
        pending_.clear();
        offsets_.clear();
    }

private:
    [[nodiscard]] std::size_t column_index(std::string_view column) const {
        for (std::size_t c = 0; c < names_.size(); ++c)
            if (names_[c] == column) return c;
        detail::throw_shape_mismatch("the result has no column named '" + std::string(column) +
                                     "'");
    }

    std::vector<std::string> names_;
    std::vector<field_view> cells_;
    std::string arena_;
    std::vector<std::size_t> offsets_;
    std::vector<std::size_t> pending_;
    std::size_t rows_ = 0;
    std::uint64_t affected_ = 0;
};

}  // namespace dal
