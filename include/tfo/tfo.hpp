//
// tfo: TCP Fast Open for Boost.Asio
//
// The umbrella header: everything the library offers.
//

#ifndef TFO_TFO_HPP
#define TFO_TFO_HPP

#include <tfo/async_fastopen_connect.hpp>
#include <tfo/error.hpp>
#include <tfo/fast_open_info.hpp>
#include <tfo/key_schedule.hpp> // link tfo::key_schedule to use it
#include <tfo/socket_options.hpp>
#include <tfo/system.hpp>

#endif
