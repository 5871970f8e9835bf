package io.dagy.testendpoints;

import io.dagy.gateway.DagyApplication;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Import;
import org.springframework.test.context.ActiveProfiles;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The application as the edge tests see it, one context for all of them: rate limits on at their defaults (120 a
 * minute, burst 200) on a {@link TestClock}, two allowed CORS origins, and 127.0.0.1 as a trusted proxy, so a test
 * can act as many client addresses through {@code X-Forwarded-For}. Settings go through their {@code DAGY_*} names.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@SpringBootTest(classes = DagyApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {
                "dagy.rate-limit.enabled=true",
                "DAGY_API_CORS_ALLOWED_ORIGINS=https://app.example.com, https://admin.example.com/",
                "DAGY_TRUSTED_PROXIES=127\\.0\\.0\\.1"})
@ActiveProfiles({"local", "test"})
@Import({TestEndpoints.class, EdgeTestEndpoints.class})
public @interface EdgeApplicationTest {

    String ALLOWED_ORIGIN = "https://app.example.com";
    String OTHER_ALLOWED_ORIGIN = "https://admin.example.com";
}
