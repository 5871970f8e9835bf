package io.dagy.gateway.billing;

import com.stripe.exception.SignatureVerificationException;
import com.stripe.model.Event;
import com.stripe.net.Webhook;
import io.dagy.contracts.ErrorCode;
import io.dagy.gateway.problem.ProblemException;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;

import java.nio.charset.StandardCharsets;
import java.time.Clock;

/**
 * One delivery of Stripe's webhook: verify its {@code Stripe-Signature} with stripe-java's {@link Webhook} (the
 * endpoint's secret, a tolerance of {@value #TOLERANCE_SECONDS} seconds), skip an event id handled before, send its
 * command, then record the id. Unknown types and events naming no organization are acknowledged and counted.
 */
final class StripeWebhook {

    private static final Logger log = LoggerFactory.getLogger(StripeWebhook.class);
    static final long TOLERANCE_SECONDS = 300;

    enum Outcome { PROCESSED, ALREADY_PROCESSED, IGNORED, UNMATCHED }

    private final String secret;
    private final Clock clock;
    private final WebhookLedger ledger;
    private final StripeEventCommands events;
    private final CommandGateway commands;

    StripeWebhook(String secret, Clock clock, WebhookLedger ledger, StripeEventCommands events, CommandGateway commands) {
        this.secret = secret;
        this.clock = clock;
        this.ledger = ledger;
        this.events = events;
        this.commands = commands;
    }

    /** @throws ProblemException 401 {@code invalid_signature} for a delivery that is unsigned, tampered or stale */
    Outcome receive(String signature, byte[] body) {
        if (secret == null || secret.isBlank()) {
            throw refused("This installation has no Stripe webhook secret (STRIPE_WEBHOOK_SECRET).");
        }
        if (signature == null || signature.isBlank()) {
            throw refused("The Stripe-Signature header is missing.");
        }
        Event event;
        try {
            event = Webhook.constructEvent(new String(body, StandardCharsets.UTF_8), signature, secret,
                    TOLERANCE_SECONDS, clock);
        } catch (SignatureVerificationException invalid) {
            throw refused("The Stripe-Signature does not match the body, or is older than five minutes.");
        } catch (RuntimeException unreadable) { // gson's JsonSyntaxException and friends: signed, but not an event
            throw new ProblemException(HttpStatus.BAD_REQUEST, ErrorCode.MALFORMED_REQUEST,
                    "The signed body is not a Stripe event.");
        }
        if (event.getId() == null || event.getType() == null || event.getCreated() == null) {
            throw new ProblemException(HttpStatus.BAD_REQUEST, ErrorCode.MALFORMED_REQUEST,
                    "The signed body is not a Stripe event.");
        }
        if (!StripeEventCommands.HANDLED.contains(event.getType())) {
            ledger.count("ignored", event.getType());
            log.debug("Stripe event {} of type {} ignored", event.getId(), event.getType());
            return Outcome.IGNORED;
        }
        if (ledger.handled(event.getId())) {
            return Outcome.ALREADY_PROCESSED;
        }
        Object command = events.commandOf(event);
        if (command instanceof StripeEventCommands.Unmatched unmatched) {
            ledger.count("unmatched", event.getType());
            log.info("Stripe event {} of type {} names nothing of this installation ({}); acknowledged",
                    event.getId(), event.getType(), unmatched.reason());
            return Outcome.UNMATCHED;
        }
        commands.sendAndWait(command);
        ledger.record(event.getId(), event.getType());
        return Outcome.PROCESSED;
    }

    private static ProblemException refused(String detail) {
        return new ProblemException(HttpStatus.UNAUTHORIZED, ErrorCode.INVALID_SIGNATURE, detail);
    }
}
