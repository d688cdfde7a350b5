//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//

#ifndef TFO_DETAIL_BUFFER_CURSOR_HPP
#define TFO_DETAIL_BUFFER_CURSOR_HPP

#include <boost/asio/buffer.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <iterator>
#include <new>

namespace tfo::detail {

/// A window of at most `max_buffers` buffers taken from a sequence; itself a
/// ConstBufferSequence.
class prepared_buffers
{
public:
    static constexpr std::size_t max_buffers = 64;

    prepared_buffers() noexcept {}
    prepared_buffers(const prepared_buffers& other) noexcept { *this = other; }
    prepared_buffers& operator=(const prepared_buffers& other) noexcept
    {
        if (this == &other)
            return *this;
        count_ = 0;
        for (const auto& b : other)
            push_back(b);
        return *this;
    }

    const boost::asio::const_buffer* begin() const noexcept { return storage_.buffers; }
    const boost::asio::const_buffer* end() const noexcept { return storage_.buffers + count_; }
    std::size_t count() const noexcept { return count_; }

    void push_back(boost::asio::const_buffer b) noexcept { new (&storage_.buffers[count_++]) boost::asio::const_buffer(b); }
    bool full() const noexcept { return count_ == max_buffers; }

private:
    // Left uninitialised: only the first `count_` are ever read, and
    // clearing all 64 (1 KiB) for the one or two a SYN usually carries cost
    // more than the rest of preparing it.
    union storage
    {
        storage() noexcept {}
        boost::asio::const_buffer buffers[max_buffers];
    } storage_;
    std::size_t count_ = 0;
};

/// Walks a ConstBufferSequence as its bytes are written, without copying any.
///
/// It keeps a copy of the sequence object (not of the data, which the caller
/// keeps alive) and positions as indices, so the composed operation that
/// holds it can be moved freely.
template <typename ConstBufferSequence>
class buffer_cursor
{
public:
    explicit buffer_cursor(const ConstBufferSequence& buffers)
        : buffers_(buffers), total_(boost::asio::buffer_size(buffers))
    {
    }

    std::size_t total() const noexcept { return total_; }
    std::size_t consumed() const noexcept { return consumed_; }
    bool done() const noexcept { return consumed_ == total_; }

    /// The next bytes to write, skipping empty buffers.
    prepared_buffers prepare() const noexcept
    {
        prepared_buffers out;
        auto it = boost::asio::buffer_sequence_begin(buffers_);
        auto end = boost::asio::buffer_sequence_end(buffers_);
        std::advance(it, index_);
        for (std::size_t skip = offset_; it != end && !out.full(); ++it, skip = 0)
        {
            boost::asio::const_buffer b(*it);
            b += skip;
            if (b.size() != 0)
                out.push_back(b);
        }
        return out;
    }

    /// Starts again from the first byte, for another attempt.
    void rewind() noexcept { consumed_ = index_ = offset_ = 0; }

    /// Positions the cursor `n` bytes from the first (cheap when it is there).
    void seek(std::size_t n) noexcept
    {
        if (n < consumed_)
            rewind();
        if (n != consumed_)
            consume(n - consumed_);
    }

    /// Marks `n` more bytes as written.
    void consume(std::size_t n) noexcept
    {
        auto it = boost::asio::buffer_sequence_begin(buffers_);
        auto end = boost::asio::buffer_sequence_end(buffers_);
        std::advance(it, index_);
        n = std::min(n, total_ - consumed_);
        consumed_ += n;
        while (it != end)
        {
            std::size_t left = boost::asio::const_buffer(*it).size() - offset_;
            if (n < left)
            {
                offset_ += n;
                return;
            }
            n -= left;
            offset_ = 0;
            ++index_;
            ++it;
            if (n == 0 && consumed_ != total_)
                return;
        }
    }

private:
    ConstBufferSequence buffers_;
    std::size_t total_;
    std::size_t consumed_ = 0;
    std::size_t index_ = 0;  // element of the sequence the next byte is in
    std::size_t offset_ = 0; // bytes of that element already written
};

} // namespace tfo::detail

#endif
