package io.dagy.gateway.web;

import io.dagy.contracts.BusinessError.FieldError;
import io.dagy.contracts.ErrorCode;
import io.dagy.gateway.problem.ProblemException;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.http.HttpStatus;
import org.springframework.web.filter.OncePerRequestFilter;
import org.springframework.web.util.UriUtils;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UnsupportedEncodingException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/**
 * Refuses, before anything else sees them, requests the container lets through but no route should get: path
 * parameters ({@code /v1/deployments/a;b=c} would otherwise reach the controller as {@code a}), control characters in
 * the path, a malformed {@code Idempotency-Key}, and bodies over {@link #MAX_BODY_BYTES}. A refusal is a problem
 * response, rendered by the error page from a request attribute (so nothing is thrown and logged with a stack).
 */
final class RequestFirewall extends OncePerRequestFilter {

    static final String IDEMPOTENCY_KEY = "Idempotency-Key";
    static final int MAX_IDEMPOTENCY_KEY_LENGTH = 255;
    /** Far above a DAG of 10,000 tasks (a few MB); what a request may store is limited further by the event store. */
    static final long MAX_BODY_BYTES = 16L * 1024 * 1024;

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        Optional<ProblemException> refusal = check(request);
        if (refusal.isPresent()) {
            request.setAttribute(ProblemException.ATTRIBUTE, refusal.get());
            response.sendError(refusal.get().status().value());
            return;
        }
        chain.doFilter(request.getContentLengthLong() < 0 ? new LimitedBody(request) : request, response);
    }

    private static Optional<ProblemException> check(HttpServletRequest request) {
        String rawPath = request.getRequestURI();
        if (rawPath.indexOf(';') >= 0) {
            return Optional.of(malformed("Path parameters (';' in the path) are not accepted."));
        }
        String path;
        try {
            path = UriUtils.decode(rawPath, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException badEncoding) {
            return Optional.of(malformed("The path is not valid percent-encoded UTF-8."));
        }
        if (path.chars().anyMatch(RequestFirewall::isControl)) {
            return Optional.of(malformed("The path contains control characters."));
        }
        List<String> keys = Collections.list(request.getHeaders(IDEMPOTENCY_KEY));
        if (keys.size() > 1 || (keys.size() == 1 && !isIdempotencyKey(keys.get(0)))) {
            return Optional.of(ProblemException.invalid("The Idempotency-Key header is invalid.", List.of(new FieldError(
                    IDEMPOTENCY_KEY, "one header of 1-" + MAX_IDEMPOTENCY_KEY_LENGTH + " printable ASCII characters"))));
        }
        if (request.getContentLengthLong() > MAX_BODY_BYTES) {
            return Optional.of(tooLarge());
        }
        return Optional.empty();
    }

    static boolean isIdempotencyKey(String key) {
        return !key.isBlank() && key.length() <= MAX_IDEMPOTENCY_KEY_LENGTH
                && key.chars().allMatch(c -> c >= 0x20 && c <= 0x7E);
    }

    private static boolean isControl(int c) {
        return c < 0x20 || (c >= 0x7F && c <= 0x9F);
    }

    private static ProblemException malformed(String detail) {
        return new ProblemException(HttpStatus.BAD_REQUEST, ErrorCode.MALFORMED_REQUEST, detail);
    }

    static ProblemException tooLarge() {
        return new ProblemException(HttpStatus.CONTENT_TOO_LARGE, ErrorCode.PAYLOAD_TOO_LARGE,
                "The request body is larger than " + MAX_BODY_BYTES / (1024 * 1024) + " MB.");
    }

    /** A body of unknown length (chunked) that fails its reader once it passes {@link #MAX_BODY_BYTES}. */
    private static final class LimitedBody extends HttpServletRequestWrapper {

        private ServletInputStream limited;

        LimitedBody(HttpServletRequest request) {
            super(request);
        }

        @Override
        public ServletInputStream getInputStream() throws IOException {
            if (limited == null) {
                limited = new LimitedStream(super.getInputStream());
            }
            return limited;
        }

        @Override
        public BufferedReader getReader() throws IOException {
            String encoding = getCharacterEncoding();
            Charset charset;
            try {
                charset = encoding == null ? StandardCharsets.UTF_8 : Charset.forName(encoding);
            } catch (IllegalArgumentException unknown) {
                throw new UnsupportedEncodingException(encoding);
            }
            return new BufferedReader(new InputStreamReader(getInputStream(), charset));
        }
    }

    private static final class LimitedStream extends ServletInputStream {

        private final ServletInputStream in;
        private long read;

        LimitedStream(ServletInputStream in) {
            this.in = in;
        }

        @Override
        public int read() throws IOException {
            int b = in.read();
            if (b >= 0) {
                count(1);
            }
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            int n = in.read(buffer, offset, length);
            if (n > 0) {
                count(n);
            }
            return n;
        }

        private void count(int n) {
            read += n;
            if (read > MAX_BODY_BYTES) {
                throw tooLarge();
            }
        }

        @Override
        public boolean isFinished() {
            return in.isFinished();
        }

        @Override
        public boolean isReady() {
            return in.isReady();
        }

        @Override
        public void setReadListener(ReadListener listener) {
            in.setReadListener(listener);
        }
    }
}
