package io.dagy.gateway.billing;

import io.dagy.contracts.ErrorCode;
import io.dagy.gateway.problem.ProblemException;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;

import java.io.IOException;
import java.io.InputStream;
import java.util.Locale;
import java.util.Map;

/**
 * Stripe's webhook (docs/billing.md). Authenticated by its signature, not by credentials. Every authentic delivery,
 * also a repeated one or one of a type Dagy ignores, is acknowledged with 200 so Stripe stops retrying it.
 */
@RestController
class StripeWebhookController {

    /** Stripe's events are a few kilobytes; a subscription with many items stays well under this. */
    static final int MAX_BODY_BYTES = 512 * 1024;

    private final StripeWebhook webhook;

    StripeWebhookController(StripeWebhook webhook) {
        this.webhook = webhook;
    }

    @PostMapping("/webhooks/stripe")
    Map<String, Object> receive(@RequestHeader(name = "Stripe-Signature", required = false) String signature,
                                InputStream body) throws IOException {
        byte[] raw = body.readNBytes(MAX_BODY_BYTES + 1); // the raw bytes, as signed
        if (raw.length > MAX_BODY_BYTES) {
            throw new ProblemException(HttpStatus.CONTENT_TOO_LARGE, ErrorCode.PAYLOAD_TOO_LARGE,
                    "A Stripe event is at most " + MAX_BODY_BYTES / 1024 + " KB.");
        }
        return Map.of("received", true, "outcome", webhook.receive(signature, raw).name().toLowerCase(Locale.ROOT));
    }
}
