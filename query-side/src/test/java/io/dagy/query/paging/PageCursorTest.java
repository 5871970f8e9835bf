package io.dagy.query.paging;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PageCursorTest {

    private static final String RUN_KEY = "2026-11-22T04:36:28.123456Z#r-0f8fad5b-d9cb-469f-a165-70867728950e";

    private static String base64(String text) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aCursorDecodesToTheKeyItWasMadeFrom() {
        assertThat(PageCursor.RUNS.decode(PageCursor.RUNS.encode(RUN_KEY))).hasValue(RUN_KEY);
        assertThat(PageCursor.DEPLOYMENTS.decode(PageCursor.DEPLOYMENTS.encode("etl-daily"))).hasValue("etl-daily");
    }

    @Test
    void aCursorIsOnlyUrlSafeCharacters() {
        assertThat(PageCursor.RUNS.encode(RUN_KEY)).matches("[A-Za-z0-9_-]+");
    }

    @Test
    void aCursorOfOneListingIsRefusedByAnother() {
        assertThat(PageCursor.RUNS.isValid(PageCursor.DEPLOYMENTS.encode("etl-daily"))).isFalse();
        assertThat(PageCursor.DEPLOYMENTS.isValid(PageCursor.RUNS.encode(RUN_KEY))).isFalse();
    }

    @Test
    void textThatIsNotBase64UrlIsRefused() {
        for (String text : new String[] {"-", "", "a", "ab=", "a+b/", "a b", "%41", "é"}) {
            assertThat(PageCursor.RUNS.isValid(text)).as(text).isFalse();
            assertThat(PageCursor.DEPLOYMENTS.isValid(text)).as(text).isFalse();
        }
    }

    @Test
    void aNullCursorIsNotValid() {
        assertThat(PageCursor.RUNS.decode(null)).isEmpty();
    }

    @Test
    void randomBase64IsRefused() {
        var random = new java.util.Random(42);
        for (int i = 0; i < 1_000; i++) {
            byte[] noise = new byte[1 + random.nextInt(200)];
            random.nextBytes(noise);
            String text = Base64.getUrlEncoder().withoutPadding().encodeToString(noise);
            assertThat(PageCursor.RUNS.isValid(text)).as(text).isFalse();
            assertThat(PageCursor.DEPLOYMENTS.isValid(text)).as(text).isFalse();
        }
    }

    @Test
    void aCursorLongerThanTheLimitIsRefusedEvenWhenWellFormed() {
        String longName = "a".repeat(PageCursor.MAX_LENGTH);
        assertThat(PageCursor.DEPLOYMENTS.isValid(base64("deployments.1:" + longName))).isFalse();
        assertThat(PageCursor.DEPLOYMENTS.isValid("A".repeat(5_000))).isFalse();
    }

    @Test
    void aCursorWhoseKeyHasTheWrongShapeIsRefused() {
        assertThat(PageCursor.DEPLOYMENTS.isValid(base64("deployments.1:Not A Name"))).isFalse();
        assertThat(PageCursor.DEPLOYMENTS.isValid(base64("deployments.1:"))).isFalse();
        assertThat(PageCursor.RUNS.isValid(base64("runs.1:yesterday#r-1"))).isFalse();
        assertThat(PageCursor.RUNS.isValid(base64("runs.1:2026-11-22T04:36:28Z#"))).isFalse();
        assertThat(PageCursor.RUNS.isValid(base64("runs.1:2026-11-22T04:36:28Z"))).isFalse();
        assertThat(PageCursor.RUNS.isValid(base64("runs.1:2026-11-22T04:36:28.000Z#r-1"))).as("not canonical").isFalse();
        assertThat(PageCursor.RUNS.isValid(base64("runs.1:2026-11-22T04:36:28Z#r 1"))).isFalse();
        assertThat(PageCursor.RUNS.isValid(base64("runs.1:2026-11-22T04:36:28Z#r-1"))).isTrue();
    }

    @Test
    void aCursorSpelledWithOtherLowBitsIsRefused() {
        String cursor = PageCursor.DEPLOYMENTS.encode("etl");
        char last = cursor.charAt(cursor.length() - 1);
        String respelled = cursor.substring(0, cursor.length() - 1) + (char) (last + 1);

        assertThat(Base64.getUrlDecoder().decode(respelled)).isEqualTo(Base64.getUrlDecoder().decode(cursor));
        assertThat(PageCursor.DEPLOYMENTS.isValid(respelled)).isFalse();
    }

    @Test
    void aCursorThatIsNotUtf8IsRefused() {
        byte[] bytes = "deployments.1:etl".getBytes(StandardCharsets.UTF_8);
        bytes[bytes.length - 1] = (byte) 0xC3;

        assertThat(PageCursor.DEPLOYMENTS.isValid(Base64.getUrlEncoder().withoutPadding().encodeToString(bytes))).isFalse();
    }

    @Test
    void onlyKeysOfTheListingCanBeEncoded() {
        assertThatThrownBy(() -> PageCursor.DEPLOYMENTS.encode("Not A Name")).isInstanceOf(IllegalArgumentException.class);
    }
}
