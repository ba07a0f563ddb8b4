#pragma once

#include <civetweb.h>

#include <string>

namespace pgbackup {

// Learns, once per process, where CivetWeb keeps a connection's request info (a request to a
// throwaway server on 127.0.0.1). Call after a server was started (CivetWeb initialises its
// library with the first). False when it could not: connection_info() then answers nullptr.
bool learn_connection_layout();

// The request info of `conn` (remote and server addresses and ports, is_ssl), also before its
// first request was read, when mg_get_request_info() answers nullptr: from the init_connection
// callback, a TLS callback during the handshake, or the connection_close callback. nullptr
// when the layout was not learned.
const mg_request_info* connection_info(const mg_connection* conn);

// Shuts down (both ways, without closing the descriptor) this process's TCP socket connected
// from `remote_address` (as getnameinfo prints it) port `remote_port` to local port
// `local_port`, so that whoever reads it sees the end at once. False when there is none.
bool shut_down_client_socket(const std::string& remote_address, int remote_port, int local_port);

}  // namespace pgbackup
