package io.dagy.gateway.billing;

import com.stripe.Stripe;
import com.stripe.net.Webhook;

import java.time.Instant;

/**
 * Stripe events as Stripe sends them (the documented JSON of the API version stripe-java 31 speaks), and their
 * {@code Stripe-Signature} computed with the endpoint's secret as Stripe computes it: {@code t=<unix>,v1=<HMAC-SHA256
 * of "t.body">}.
 */
final class StripeEvents {

    static final String SECRET = "whsec_test_billing_secret_0123456789";
    static final String PRICE_PRO = "price_pro_test";
    static final String PRICE_ENTERPRISE = "price_enterprise_test";

    private StripeEvents() {
    }

    static String signature(String body, Instant at) {
        try {
            long t = at.getEpochSecond();
            return "t=" + t + ",v1=" + Webhook.Util.computeHmacSha256(SECRET, t + "." + body);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static String event(String id, String type, long created, String object) {
        return "{\"id\": \"" + id + "\", \"object\": \"event\", \"api_version\": \"" + Stripe.API_VERSION + "\","
                + " \"created\": " + created + ", \"livemode\": false, \"pending_webhooks\": 1, \"type\": \"" + type
                + "\", \"data\": {\"object\": " + object + "}}";
    }

    static String subscription(String id, String org, String customer, String price, String status, long periodStart,
                               long periodEnd, boolean cancelAtPeriodEnd) {
        return "{\"id\": \"" + id + "\", \"object\": \"subscription\", \"customer\": \"" + customer + "\","
                + " \"status\": \"" + status + "\", \"cancel_at_period_end\": " + cancelAtPeriodEnd + ","
                + " \"metadata\": {" + (org == null ? "" : "\"dagy_org\": \"" + org + "\"") + "},"
                + " \"items\": {\"object\": \"list\", \"data\": [{\"id\": \"si_" + id + "\", \"object\": \"subscription_item\","
                + " \"current_period_start\": " + periodStart + ", \"current_period_end\": " + periodEnd + ","
                + " \"price\": {\"id\": \"" + price + "\", \"object\": \"price\"}}]}}";
    }

    static String invoice(String id, String org, String customer, String subscription) {
        return "{\"id\": \"" + id + "\", \"object\": \"invoice\", \"customer\": \"" + customer + "\","
                + " \"parent\": {\"type\": \"subscription_details\", \"subscription_details\": {\"subscription\": \""
                + subscription + "\", \"metadata\": {\"dagy_org\": \"" + org + "\"}}}}";
    }

    static String checkoutSession(String id, String org, String customer, String subscription) {
        return "{\"id\": \"" + id + "\", \"object\": \"checkout.session\", \"mode\": \"subscription\","
                + " \"client_reference_id\": \"" + org + "\", \"customer\": \"" + customer + "\","
                + " \"subscription\": \"" + subscription + "\", \"metadata\": {\"dagy_org\": \"" + org + "\"}}";
    }
}
