/** Wi-Fi station and a small HTTP client. Everything sent is authenticated end to end above this layer. */
export type WifiState = "off" | "connecting" | "connected";
export interface Wifi {
  connect(ssid: string, password: string, onDone: (err: string | null) => void): void;
  disconnect(): void;
  state(): WifiState;
  /** Called whenever the state changes (e.g. the access point went away). */
  onChange(fn: (state: WifiState) => void): void;
}
export interface HttpRequest {
  method: "GET" | "POST" | "PUT";
  url: string;
  headers?: { [name: string]: string };
  body?: string;
  timeoutMs: number;
}
export interface HttpResponse {
  status: number;
  body: string;
}
export interface Http {
  request(req: HttpRequest, onDone: (err: string | null, res?: HttpResponse) => void): void;
}
