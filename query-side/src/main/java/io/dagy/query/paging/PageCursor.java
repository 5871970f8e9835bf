package io.dagy.query.paging;

import io.dagy.contracts.deployment.DeploymentName;
import io.dagy.contracts.run.RunId;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * The {@code next_cursor} of a listing: opaque to clients, self-validating on the way back. A cursor is the base64url
 * text of {@code <listing tag>:<last key of the page>}; decoding checks the alphabet, the length, the canonical
 * encoding, the tag and the exact shape of the key, so anything that is not a cursor this listing handed out (or one it
 * could have handed out) is refused before it reaches DynamoDB.
 *
 * <p>Cursors carry no signature: a client can build a cursor for any position of a listing it may read anyway, which
 * only starts its page there. The partition (which deployment's runs, and later which organization's) always comes
 * from the request, never from the cursor; a cursor that ever carries more than a position must be signed.
 */
public enum PageCursor {

    /** Runs, newest first: the key is {@code <started at>#<run id>}, the sort key of the run listings. */
    RUNS("runs.1", PageCursor::isRunListingKey),
    /** Deployments in name order: the key is the last name of the page. */
    DEPLOYMENTS("deployments.1", DeploymentName::isValid),
    /** An organization's audit log in chain order: the key is the last {@code seq} examined, 12 digits. */
    AUDIT("audit.1", key -> key != null && key.matches("[0-9]{12}")),
    /** A run's tasks in DAG order: the key is the index of the next task, up to 6 digits. */
    RUN_TASKS("tasks.1", key -> key != null && key.matches("[0-9]{1,6}")),
    /** A run's history: the key is the last shard position examined, up to 18 digits. */
    RUN_EVENTS("events.1", key -> key != null && key.matches("[0-9]{1,18}"));

    /** Far above what a real cursor needs (under 250 characters); longer text is refused without decoding. */
    public static final int MAX_LENGTH = 512;

    private static final Pattern ALPHABET = Pattern.compile("[A-Za-z0-9_-]+");

    private final String tag;
    private final Predicate<String> keyShape;

    PageCursor(String tag, Predicate<String> keyShape) {
        this.tag = tag;
        this.keyShape = keyShape;
    }

    /** The cursor for a page that ends at {@code lastKey}. */
    public String encode(String lastKey) {
        if (!keyShape.test(lastKey)) {
            throw new IllegalArgumentException("not a key of the " + this + " listing: " + lastKey);
        }
        return Base64.getUrlEncoder().withoutPadding().encodeToString((tag + ":" + lastKey).getBytes(StandardCharsets.UTF_8));
    }

    /** The last key of the page the cursor continues after, or empty when the text is not a cursor of this listing. */
    public Optional<String> decode(String cursor) {
        if (cursor == null || cursor.length() > MAX_LENGTH || !ALPHABET.matcher(cursor).matches()) {
            return Optional.empty();
        }
        byte[] bytes;
        try {
            bytes = Base64.getUrlDecoder().decode(cursor);
        } catch (IllegalArgumentException notBase64) {
            return Optional.empty();
        }
        // the same bytes have several spellings (unused low bits of the last character): accept only ours
        if (!Base64.getUrlEncoder().withoutPadding().encodeToString(bytes).equals(cursor)) {
            return Optional.empty();
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException notText) {
            return Optional.empty();
        }
        String prefix = tag + ":";
        if (!text.startsWith(prefix)) {
            return Optional.empty();
        }
        String key = text.substring(prefix.length());
        return keyShape.test(key) ? Optional.of(key) : Optional.empty();
    }

    /** Whether the text is a cursor of this listing. */
    public boolean isValid(String cursor) {
        return decode(cursor).isPresent();
    }

    /** {@code <instant>#<run id>}, the instant in {@link Instant#toString()}'s form exactly. */
    private static boolean isRunListingKey(String key) {
        if (key == null) {
            return false;
        }
        int hash = key.indexOf('#');
        if (hash < 0) {
            return false;
        }
        String startedAt = key.substring(0, hash);
        try {
            if (!Instant.parse(startedAt).toString().equals(startedAt)) {
                return false;
            }
        } catch (DateTimeParseException notAnInstant) {
            return false;
        }
        return RunId.isValid(key.substring(hash + 1));
    }
}
