//! Pingora peers for a route's provider, built from already-resolved addresses.

use std::net::SocketAddr;

use pingora::upstreams::peer::HttpPeer;

use crate::plan::upstream::{PeerSettings, UpstreamTarget};

/// A peer from a resolved address: `HttpPeer::new` with a `SocketAddr` never
/// touches DNS. Peers built from the same inputs hash alike and share the pool.
pub fn build_peer(
    target: &UpstreamTarget,
    address: SocketAddr,
    settings: &PeerSettings,
) -> HttpPeer {
    let mut peer = HttpPeer::new(address, target.tls, target.host.clone());
    peer.options.connection_timeout = Some(settings.connect_timeout);
    peer.options.total_connection_timeout = Some(settings.connect_timeout);
    peer.options.read_timeout = Some(settings.io_timeout);
    peer.options.write_timeout = Some(settings.io_timeout);
    peer.options.idle_timeout = Some(settings.idle_timeout);
    peer.options.ca = settings.ca.clone();
    peer.group_key = settings.trust_group;
    peer
}
