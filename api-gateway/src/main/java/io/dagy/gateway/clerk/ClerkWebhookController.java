package io.dagy.gateway.clerk;

import io.dagy.contracts.ErrorCode;
import io.dagy.gateway.problem.ProblemException;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

import java.io.IOException;
import java.io.InputStream;

/**
 * Clerk's webhook: {@code user.created}, {@code user.updated} and {@code user.deleted} keep Dagy's users in step with
 * the identity provider. Authenticated by its Svix signature, not by a caller's credentials; every authentic
 * delivery, also a repeated one or one of a type Dagy ignores, is acknowledged with 204 so the provider stops
 * retrying it.
 */
@RestController
class ClerkWebhookController {

    /** Clerk's user events are a few kilobytes; a body larger than this is refused before it is read further. */
    static final int MAX_BODY_BYTES = 256 * 1024;

    private final ClerkWebhook webhook;

    ClerkWebhookController(ClerkWebhook webhook) {
        this.webhook = webhook;
    }

    @PostMapping("/webhooks/clerk")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    void receive(@RequestHeader(name = "svix-id", required = false) String svixId,
                 @RequestHeader(name = "svix-timestamp", required = false) String svixTimestamp,
                 @RequestHeader(name = "svix-signature", required = false) String svixSignature,
                 InputStream body) throws IOException {
        // the raw bytes, as signed: a parsed and re-serialized body would not match the signature
        byte[] raw = body.readNBytes(MAX_BODY_BYTES + 1);
        if (raw.length > MAX_BODY_BYTES) {
            throw new ProblemException(HttpStatus.CONTENT_TOO_LARGE, ErrorCode.PAYLOAD_TOO_LARGE,
                    "A Clerk event is at most " + MAX_BODY_BYTES / 1024 + " KB.");
        }
        webhook.receive(svixId, svixTimestamp, svixSignature, raw);
    }
}
