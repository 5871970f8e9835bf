package io.dagy.benchmarks.orchestration;

import io.dagy.gateway.security.ApiKeys;
import org.springframework.security.crypto.bcrypt.BCryptPasswordEncoder;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

/**
 * What authentication costs. Two figures:
 * <ol>
 *     <li>hashing a presented API key: SHA-256 (what Dagy does) against bcrypt at Spring's default strength 10 (what
 *     the deployment guide suggests), per call;</li>
 *     <li>what authentication adds to a request, on Dagy as a user starts it (local profile, DynamoDB Local on disk):
 *     {@code GET /health} (public, the same handler and answer either way) once without credentials and once with a
 *     valid key, which the resource server authenticates whenever one is presented (hash, one strongly consistent
 *     read of {@code DAGY_API_KEYS}, the caller's organization and role). The difference of the medians is the
 *     authentication.</li>
 * </ol>
 * Run: {@code ./mvnw -q -pl benchmarks -am -DskipTests package exec:java@authentication}.
 */
public final class AuthenticationBenchmark {

    private static final int REQUESTS = Integer.getInteger("bench.requests", 2000);

    private AuthenticationBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int status = 0;
        try {
            run();
        } catch (Exception | Error e) {
            e.printStackTrace();
            status = 1;
        }
        System.exit(status); // the embedded stack's threads would keep exec:java's JVM alive
    }

    private static void run() throws Exception {
        hashing();
        try (DagyProcess dagy = DagyProcess.start(DagyProcess.Storage.DISK, Map.of())) {
            HttpClient http = HttpClient.newHttpClient();
            URI health = dagy.base().resolve("/health");
            String key = dagy.apiKey();
            String unknownKey = ApiKeys.generate().key();
            for (int i = 0; i < 500; i++) { // warm-up of both paths
                send(http, health, null);
                send(http, health, key);
            }
            // interleaved, so a slow spell of the machine weighs on all three alike
            long[] anonymous = new long[REQUESTS];
            long[] authenticated = new long[REQUESTS];
            long[] unknown = new long[REQUESTS];
            for (int i = 0; i < REQUESTS; i++) {
                anonymous[i] = timed(http, health, null, 200);
                authenticated[i] = timed(http, health, key, 200);
                unknown[i] = timed(http, health, unknownKey, 401);
            }
            System.out.printf(Locale.ROOT, "%nrequests of GET /health, %d each, sequential, DynamoDB Local on disk%n", REQUESTS);
            print("no credentials (200)", anonymous);
            print("valid API key (200 after authentication)", authenticated);
            print("unknown API key (401 after the lookup)", unknown);
            System.out.printf(Locale.ROOT, "authentication adds %.2f ms at p50 (valid key minus no credentials)%n",
                    (percentile(authenticated, 50) - percentile(anonymous, 50)) / 1e6);
        }
    }

    private static void hashing() {
        String key = ApiKeys.generate().key();
        long[] sha = new long[200_000];
        for (int i = 0; i < sha.length; i++) {
            long start = System.nanoTime();
            ApiKeys.hash(key);
            sha[i] = System.nanoTime() - start;
        }
        BCryptPasswordEncoder bcrypt = new BCryptPasswordEncoder();
        String hashed = bcrypt.encode(key);
        long[] slow = new long[30];
        for (int i = 0; i < slow.length; i++) {
            long start = System.nanoTime();
            bcrypt.matches(key, hashed);
            slow[i] = System.nanoTime() - start;
        }
        System.out.printf(Locale.ROOT, "hashing one presented key: SHA-256 p50 %.2f µs; bcrypt (strength 10) p50 %.1f ms "
                + "(%.0f× slower; at most %.0f requests/s per core)%n", percentile(sha, 50) / 1e3,
                percentile(slow, 50) / 1e6, percentile(slow, 50) / percentile(sha, 50), 1e9 / percentile(slow, 50));
    }

    private static long timed(HttpClient http, URI uri, String key, int expected) throws Exception {
        long start = System.nanoTime();
        int status = send(http, uri, key);
        long took = System.nanoTime() - start;
        if (status != expected) {
            throw new IllegalStateException("expected " + expected + ", got " + status);
        }
        return took;
    }

    private static int send(HttpClient http, URI uri, String key) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).GET();
        if (key != null) {
            request.header("Authorization", "Bearer " + key);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private static void print(String what, long[] took) {
        System.out.printf(Locale.ROOT, "  %-45s p50 %6.2f ms   p95 %6.2f ms%n", what, percentile(took, 50) / 1e6,
                percentile(took, 95) / 1e6);
    }

    private static double percentile(long[] values, int percentile) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(percentile / 100.0 * sorted.length) - 1)];
    }
}
