use crate::{ClientError, Event, Result};
use futures_util::{SinkExt, StreamExt};
use reqwest::header::HeaderMap;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use url::Url;

/// Bytes read from the socket at a time.
const READ_BUFFER: usize = 4096;

/// A live stream of [`Event`]s from the service.
///
/// The first event is always [`Event::Ready`] and is consumed by `connect`, so events delivered
/// after `connect` returns are never missed.
pub struct EventStream {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EventStream")
    }
}

impl EventStream {
    pub(crate) async fn connect(url: Url, headers: HeaderMap) -> Result<EventStream> {
        let mut request = url.as_str().into_client_request().map_err(|e| ClientError::InvalidUrl(e.to_string()))?;
        for (k, v) in headers.iter() {
            request.headers_mut().insert(k.clone(), v.clone());
        }
        // Events are small: a 4 KiB read buffer (tungstenite's default of 128 KiB is zeroed
        // before every read, which costs a client of many sockets more than the events do), and
        // no Nagle delay on the pongs.
        let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER);
        let (ws, _) =
            tokio_tungstenite::connect_async_with_config(request, Some(config), true).await.map_err(map_ws_error)?;
        let mut stream = EventStream { ws };
        match stream.next_event().await {
            Some(Ok(Event::Ready)) => Ok(stream),
            Some(Ok(other)) => Err(ClientError::Protocol(format!("expected ready, got {other:?}"))),
            Some(Err(e)) => Err(e),
            None => Err(ClientError::Transport("event stream closed before it was ready".into())),
        }
    }

    /// The next event; `None` once the service closed the stream.
    pub async fn next_event(&mut self) -> Option<Result<Event>> {
        loop {
            let msg = match self.ws.next().await? {
                Ok(m) => m,
                Err(e) => return Some(Err(map_ws_error(e))),
            };
            match msg {
                WsMessage::Text(text) => {
                    return Some(
                        serde_json::from_str(text.as_str())
                            .map_err(|e| ClientError::Protocol(format!("bad event: {e}"))),
                    )
                }
                WsMessage::Ping(p) => {
                    let _ = self.ws.send(WsMessage::Pong(p)).await;
                }
                WsMessage::Close(_) => return None,
                _ => {}
            }
        }
    }

    /// Closes the stream politely.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

fn map_ws_error(e: tokio_tungstenite::tungstenite::Error) -> ClientError {
    use tokio_tungstenite::tungstenite::Error as E;
    match e {
        E::Http(resp) => {
            let status = resp.status().as_u16();
            let body = resp.body().as_deref().map(String::from_utf8_lossy).unwrap_or_default();
            match serde_json::from_str::<crate::ApiError>(&body) {
                Ok(api) => ClientError::Api { status, code: api.error, message: api.message },
                Err(_) => ClientError::Api { status, code: crate::ErrorCode::Unknown, message: body.into_owned() },
            }
        }
        E::Io(io) => ClientError::Unreachable(io.to_string()),
        other => ClientError::Transport(other.to_string()),
    }
}
