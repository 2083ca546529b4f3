package org.scimkit;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A SCIM target over HTTP(S) with a bearer token, on {@link java.net.http.HttpClient}; never follows redirects. */
public final class HttpTransport implements Transport {
    private final String base;
    private final String authorization;
    private final HttpClient client;
    private final Duration timeout;

    public HttpTransport(String baseUrl, String token, Duration timeout) {
        this.base = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
        this.authorization = "Bearer " + token;
        this.timeout = timeout;
        this.client = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER).build();
    }

    @Override
    public Response send(Request request) throws Exception {
        String url = base + request.path() + (request.query().isEmpty() ? "" : "?" + request.query());
        var body = request.body() == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(request.body());
        var b = HttpRequest.newBuilder(URI.create(url)).timeout(timeout).method(request.method(), body).header("Authorization", authorization);
        for (var h : request.headers()) {
            b.header(h.getKey(), h.getValue());
        }
        HttpResponse<byte[]> r = client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        List<Map.Entry<String, String>> headers = new ArrayList<>();
        r.headers().map().forEach((k, vs) -> vs.forEach(v -> headers.add(Map.entry(k, v))));
        return new Response(r.statusCode(), headers, r.body());
    }
}
