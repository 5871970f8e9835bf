package io.dagy.gateway.web;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * An HTTP/1.1 client over a plain socket, for requests no well-behaved client sends: raw request targets (encoded
 * slashes, {@code %00}, semicolons), control characters in headers, oversized headers. One request per connection.
 */
final class RawHttp {

    private final int port;

    RawHttp(int port) {
        this.port = port;
    }

    /** A response: status, headers (names lower case, the last value of each) and the body as text. */
    record Response(int status, Map<String, String> headers, String body) {
        Optional<String> header(String name) {
            return Optional.ofNullable(headers.get(name.toLowerCase(Locale.ROOT)));
        }

        String contentType() {
            return header("content-type").orElse("");
        }
    }

    /**
     * Sends {@code method target} with the headers as given (names and values are written byte for byte, ISO-8859-1)
     * and the body, if any, as UTF-8 with its {@code Content-Length} (unless the headers frame the body themselves).
     */
    Response send(String method, String target, List<Map.Entry<String, String>> headers, String body) throws IOException {
        byte[] content = body == null ? null : body.getBytes(StandardCharsets.UTF_8);
        StringBuilder head = new StringBuilder(method).append(' ').append(target).append(" HTTP/1.1\r\n")
                .append("Host: 127.0.0.1:").append(port).append("\r\n")
                .append("Connection: close\r\n");
        headers.forEach(header -> head.append(header.getKey()).append(": ").append(header.getValue()).append("\r\n"));
        boolean framed = headers.stream().anyMatch(header -> header.getKey().equalsIgnoreCase("Content-Length")
                || header.getKey().equalsIgnoreCase("Transfer-Encoding"));
        if (content != null && !framed) {
            head.append("Content-Length: ").append(content.length).append("\r\n");
        }
        head.append("\r\n");
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(30_000);
            // written while the response is read: a server may answer (and close) before it has read a large body
            Thread writer = new Thread(() -> {
                try {
                    OutputStream out = socket.getOutputStream();
                    out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
                    if (content != null) {
                        out.write(content);
                    }
                    out.flush();
                } catch (IOException closedEarly) {
                    // the server answered without reading everything: its answer is what counts
                }
            }, "raw-http-writer");
            writer.start();
            Response response = read(socket.getInputStream());
            try {
                writer.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return response;
        }
    }

    /** The text as a chunked body, in chunks of 64 KB. */
    static String chunked(String text) {
        StringBuilder body = new StringBuilder();
        for (int at = 0; at < text.length(); at += 65_536) {
            String chunk = text.substring(at, Math.min(text.length(), at + 65_536));
            body.append(Integer.toHexString(chunk.getBytes(StandardCharsets.UTF_8).length)).append("\r\n")
                    .append(chunk).append("\r\n");
        }
        return body.append("0\r\n\r\n").toString();
    }

    private static Response read(InputStream in) throws IOException {
        byte[] all = in.readAllBytes();
        int end = indexOf(all, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        if (end < 0) {
            throw new IOException("no complete response head in " + all.length + " bytes");
        }
        String[] lines = new String(all, 0, end, StandardCharsets.ISO_8859_1).split("\r\n");
        int status = Integer.parseInt(lines[0].split(" ")[1]);
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
        }
        byte[] body = java.util.Arrays.copyOfRange(all, end + 4, all.length);
        if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
            body = unchunk(body);
        }
        return new Response(status, headers, new String(body, StandardCharsets.UTF_8));
    }

    private static byte[] unchunk(byte[] chunked) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        int at = 0;
        while (at < chunked.length) {
            int lineEnd = indexOf(java.util.Arrays.copyOfRange(chunked, at, chunked.length),
                    "\r\n".getBytes(StandardCharsets.ISO_8859_1));
            String sizeLine = new String(chunked, at, lineEnd, StandardCharsets.ISO_8859_1);
            int size = Integer.parseInt(sizeLine.split(";")[0].trim(), 16);
            at += lineEnd + 2;
            if (size == 0) {
                break;
            }
            body.write(chunked, at, size);
            at += size + 2;
        }
        return body.toByteArray();
    }

    private static int indexOf(byte[] data, byte[] pattern) {
        outer:
        for (int i = 0; i <= data.length - pattern.length; i++) {
            for (int j = 0; j < pattern.length; j++) {
                if (data[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
