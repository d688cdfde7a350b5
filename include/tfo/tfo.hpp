//
// tfo: TCP Fast Open for Boost.Asio
// Distributed under the Boost Software License, Version 1.0 (see LICENSE).
//
// The umbrella header: everything in the core library, tfo::tfo. The parts
// that need OpenSSL are left out, as asio.hpp leaves out asio/ssl.hpp;
// include them, and link their targets, where you use them:
//   <tfo/key_schedule.hpp>   fleet keys            tfo::key_schedule
//   <tfo/ssl/session_cache.hpp>, <tfo/ssl/early_data.hpp>
//                            TLS early data        tfo::ssl
//

#ifndef TFO_TFO_HPP
#define TFO_TFO_HPP

#include <tfo/async_fastopen_connect.hpp>
#include <tfo/error.hpp>
#include <tfo/fast_open_info.hpp>
#include <tfo/fast_open_stream.hpp>
#include <tfo/multipath.hpp>
#include <tfo/path_memory.hpp>
#include <tfo/socket_options.hpp>
#include <tfo/system.hpp>

#endif
