package org.scimkit.example;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.concurrent.Executors;
import org.scimkit.ScimProvider;
import org.scimkit.ScimResponse;

/**
 * The example application's SCIM endpoint on the JDK's HTTP server, on 127.0.0.1 only:
 * {@code SCIM_TOKEN=t java -Dscimkit.library=target/release/libscimkit_native.so -cp CLASSES
 * org.scimkit.example.ExampleServer [PORT]}. Everything SCIM is the engine's; this class only authenticates and
 * hands over the request.
 */
public final class ExampleServer {
    static final String BASE_PATH = "/scim/v2";

    /** Which of the application's columns holds which SCIM attribute; {@code extra} keeps the rest. */
    static final String MAPPING = """
            {
              "User": {"columns": {
                "userName": "login",
                "name.givenName": "first_name",
                "name.familyName": "last_name",
                "emails[type eq \\"work\\"].value": "mail",
                "active": {"column": "enabled", "type": "boolean"},
                "meta.created": {"column": "created", "type": "dateTime"},
                "meta.lastModified": {"column": "modified", "type": "dateTime"}
              }, "rest": "extra"},
              "Group": {"columns": {
                "displayName": "title",
                "meta.created": {"column": "created", "type": "dateTime"},
                "meta.lastModified": {"column": "modified", "type": "dateTime"}
              }, "rest": "extra"}
            }""";

    static String config(String baseUrl) {
        return "{\"baseUrl\": \"" + baseUrl + "\", \"mapping\": " + MAPPING + "}";
    }

    public static void main(String[] args) throws IOException {
        String token = System.getenv("SCIM_TOKEN");
        if (token == null || token.isEmpty()) {
            System.err.println("set SCIM_TOKEN to the bearer token clients must send");
            System.exit(2);
        }
        HttpServer server = start(args.length > 0 ? Integer.parseInt(args[0]) : 8000, token);
        System.out.println("SCIM at http://127.0.0.1:" + server.getAddress().getPort() + BASE_PATH);
    }

    /** Serves SCIM on 127.0.0.1:{@code port} (0: any free port) until the server is stopped. */
    public static HttpServer start(int port, String token) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
        String base = "http://127.0.0.1:" + server.getAddress().getPort() + BASE_PATH;
        ScimProvider provider = new ScimProvider(config(base), new MemoryStorage());
        byte[] expected = ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
        server.createContext("/", exchange -> {
            try (exchange) {
                serve(exchange, provider, expected);
            } catch (RuntimeException e) {
                System.err.println("scimkit example: " + e);
            }
        });
        server.setExecutor(Executors.newFixedThreadPool(4));
        server.start();
        return server;
    }

    private static void serve(HttpExchange exchange, ScimProvider provider, byte[] expected) throws IOException {
        String path = exchange.getRequestURI().getPath();
        if (!path.equals(BASE_PATH) && !path.startsWith(BASE_PATH + "/")) {
            send(exchange, 404, "application/scim+json", error(404, "SCIM is served under " + BASE_PATH));
            return;
        }
        String given = exchange.getRequestHeaders().getFirst("Authorization");
        if (given == null || !MessageDigest.isEqual(expected, given.getBytes(StandardCharsets.UTF_8))) {
            exchange.getResponseHeaders().add("WWW-Authenticate", "Bearer");
            send(exchange, 401, "application/scim+json", error(401, "a valid bearer token is required"));
            return;
        }
        String below = path.substring(BASE_PATH.length());
        byte[] body = exchange.getRequestBody().readAllBytes();
        ScimResponse r = provider.handle(exchange.getRequestMethod(), below.isEmpty() ? "/" : below,
                exchange.getRequestURI().getRawQuery(), exchange.getRequestHeaders(), body.length == 0 ? null : body);
        r.headers().forEach(h -> exchange.getResponseHeaders().add(h.getKey(), h.getValue()));
        send(exchange, r.status(), null, r.body());
    }

    private static String error(int status, String detail) {
        return "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:Error\"],\"status\":\"" + status + "\",\"detail\":\"" + detail + "\"}";
    }

    private static void send(HttpExchange exchange, int status, String contentType, String body) throws IOException {
        if (contentType != null) {
            exchange.getResponseHeaders().set("Content-Type", contentType);
        }
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        boolean empty = bytes.length == 0 || status == 204 || status == 304;
        exchange.sendResponseHeaders(status, empty ? -1 : bytes.length);
        if (!empty) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }
}
