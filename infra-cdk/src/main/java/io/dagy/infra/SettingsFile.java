package io.dagy.infra;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Reads {@code environments/<environment>.yml}. Unknown keys are errors (a misspelt {@code jwt_requried} must not
 * silently deploy an API without JWTs), except the guide's keys that only its Python build used, which are ignored.
 * Every problem is reported at once.
 */
public final class SettingsFile {

    private static final Set<String> TOP = Set.of("environment", "region", "app", "owner", "company", "project_cost",
            "aws_account", "production", "dagy", "python_version");
    private static final Set<String> DAGY = Set.of("ecr_repository_name", "ecr_push_principals", "image_tag",
            "desired_count", "cpu", "memory_mib", "vpc_id", "subnet_ids", "security_group_ids", "certificate_arn",
            "jwt_required", "jwt_issuer", "jwt_audience", "jwks_url", "api_cors_allowed_origins", "environment_variables",
            "secrets", "backends", "alarms",
            // the guide's keys for its Lambda-image build, which Dagy's service image replaces
            "lambda_image_uri", "lambda_image_tag", "step_functions_role_arn");
    private static final Set<String> BACKENDS = Set.of("lambda_functions", "flow_executor_function", "state_machines",
            "ecs_cluster_name", "ecs_task_definitions", "ecs_task_definition_arn", "ecs_container", "ecs_task_roles",
            "ecs_subnets",
            "ecs_security_groups");
    private static final Set<String> ALARMS = Set.of("emails", "error_rate_percent", "queue_age_seconds");
    private static final Pattern ENVIRONMENT = Pattern.compile("[a-z][a-z0-9-]{0,19}");
    private static final Pattern ACCOUNT = Pattern.compile("[0-9]{12}");
    private static final Pattern VARIABLE = Pattern.compile("(DAGY|STRIPE)_[A-Z0-9_]+");

    private final List<String> problems = new ArrayList<>();
    private final String file;

    private SettingsFile(String file) {
        this.file = file;
    }

    /** The settings of {@code environment}, from {@code directory/<environment>.yml}. */
    public static Settings load(Path directory, String environment) {
        Path path = directory.resolve(environment + ".yml");
        if (!Files.isRegularFile(path)) {
            throw new IllegalArgumentException("No settings for environment '" + environment + "': " + path
                    + " does not exist");
        }
        try (Reader reader = Files.newBufferedReader(path)) {
            Object root = new Yaml(new SafeConstructor(new LoaderOptions())).load(reader);
            return new SettingsFile(path.toString()).read(root, environment);
        } catch (IOException e) {
            throw new IllegalArgumentException("Cannot read " + path + ": " + e.getMessage(), e);
        }
    }

    private Settings read(Object root, String expected) {
        Map<String, Object> top = map(root, "");
        unknown(top, TOP, "");
        String environment = text(top, "environment", "").orElse("");
        if (!ENVIRONMENT.matcher(environment).matches()) {
            problems.add("environment must be lower-case letters, digits and '-' (at most 20): '" + environment + "'");
        } else if (!environment.equals(expected)) {
            problems.add("environment is '" + environment + "' but the file is " + expected + ".yml");
        }
        String region = required(top, "region", "");
        String account = required(top, "aws_account", "");
        if (!account.isEmpty() && !ACCOUNT.matcher(account).matches()) {
            problems.add("aws_account must be 12 digits (quote it in YAML): '" + account + "'");
        }
        boolean production = bool(top, "production", "", "production".equals(environment));
        Map<String, String> tags = new LinkedHashMap<>();
        for (String tag : List.of("app", "owner", "company", "project_cost")) {
            text(top, tag, "").ifPresent(value -> tags.put(tag, value));
        }
        tags.put("environment", environment);

        Map<String, Object> dagy = map(top.getOrDefault("dagy", Map.of()), "dagy.");
        unknown(dagy, DAGY, "dagy.");
        Settings.Jwt jwt = new Settings.Jwt(bool(dagy, "jwt_required", "dagy.", false), text(dagy, "jwt_issuer", "dagy."),
                text(dagy, "jwt_audience", "dagy."), text(dagy, "jwks_url", "dagy."));
        if (jwt.required() && (jwt.issuer().isEmpty() || jwt.audience().isEmpty() || jwt.jwksUrl().isEmpty())) {
            problems.add("dagy.jwt_required is true: dagy.jwt_issuer, dagy.jwt_audience and dagy.jwks_url are required");
        }
        Optional<String> vpcId = text(dagy, "vpc_id", "dagy.");
        List<String> subnets = list(dagy, "subnet_ids", "dagy.");
        if (vpcId.isPresent() && subnets.isEmpty()) {
            problems.add("dagy.vpc_id is set: dagy.subnet_ids must list the private subnets the service runs in");
        }
        Map<String, String> extra = strings(dagy, "environment_variables", "dagy.");
        extra.keySet().stream().filter(k -> !VARIABLE.matcher(k).matches()).forEach(k ->
                problems.add("dagy.environment_variables." + k + ": only DAGY_* and STRIPE_* variables"));
        Settings.Service service = new Settings.Service(
                text(dagy, "ecr_repository_name", "dagy.").orElse("dagy-service-" + environment),
                list(dagy, "ecr_push_principals", "dagy."),
                text(dagy, "image_tag", "dagy.").orElse("latest"),
                number(dagy, "desired_count", "dagy.", production ? 2 : 1),
                number(dagy, "cpu", "dagy.", 1024),
                number(dagy, "memory_mib", "dagy.", 2048),
                vpcId, subnets, list(dagy, "security_group_ids", "dagy."), text(dagy, "certificate_arn", "dagy."),
                jwt, list(dagy, "api_cors_allowed_origins", "dagy."), extra);

        Map<String, String> secrets = new LinkedHashMap<>();
        secrets.put("DAGY_SECRETS_KEY", "dagy/" + environment + "/DAGY_SECRETS_KEY");
        secrets.putAll(strings(dagy, "secrets", "dagy."));
        secrets.keySet().stream().filter(k -> !VARIABLE.matcher(k).matches()).forEach(k ->
                problems.add("dagy.secrets." + k + ": only DAGY_* and STRIPE_* variables"));
        extra.keySet().stream().filter(secrets::containsKey).forEach(k ->
                problems.add(k + " is both a plain variable and a secret"));

        Map<String, Object> b = map(dagy.getOrDefault("backends", Map.of()), "dagy.backends.");
        unknown(b, BACKENDS, "dagy.backends.");
        String p = "dagy.backends.";
        // the guide's single ecs_task_definition_arn is one more task definition tasks may run
        List<String> taskDefinitions = new ArrayList<>(list(b, "ecs_task_definitions", p));
        text(b, "ecs_task_definition_arn", p).filter(arn -> !taskDefinitions.contains(arn)).ifPresent(taskDefinitions::add);
        Settings.Backends backends = new Settings.Backends(list(b, "lambda_functions", p),
                text(b, "flow_executor_function", p), list(b, "state_machines", p), text(b, "ecs_cluster_name", p),
                taskDefinitions, text(b, "ecs_container", p), list(b, "ecs_task_roles", p),
                list(b, "ecs_subnets", p), list(b, "ecs_security_groups", p));
        if (!backends.ecsTaskDefinitions().isEmpty() && backends.ecsTaskRoles().isEmpty()) {
            problems.add(p + "ecs_task_definitions are set: " + p + "ecs_task_roles must list their task and execution"
                    + " roles (RunTask passes them)");
        }

        Map<String, Object> a = map(dagy.getOrDefault("alarms", Map.of()), "dagy.alarms.");
        unknown(a, ALARMS, "dagy.alarms.");
        Settings.Alarms alarms = new Settings.Alarms(list(a, "emails", "dagy.alarms."),
                number(a, "error_rate_percent", "dagy.alarms.", 1), number(a, "queue_age_seconds", "dagy.alarms.", 300));

        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(file + ":\n  " + String.join("\n  ", problems));
        }
        return new Settings(environment, region, account, production, tags, service, secrets, backends, alarms);
    }

    private void unknown(Map<String, Object> map, Set<String> known, String prefix) {
        Set<String> unknown = new TreeSet<>(map.keySet());
        unknown.removeAll(known);
        unknown.forEach(key -> problems.add("unknown key " + prefix + key));
    }

    private Map<String, Object> map(Object value, String at) {
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> copy = new HashMap<>();
            map.forEach((k, v) -> copy.put(String.valueOf(k), v));
            return copy;
        }
        if (value != null) {
            problems.add((at.isEmpty() ? "the file" : at) + " must be a mapping");
        }
        return new HashMap<>();
    }

    private Optional<String> text(Map<String, Object> map, String key, String at) {
        Object value = map.get(key);
        if (value == null) {
            return Optional.empty();
        }
        if (value instanceof Map<?, ?> || value instanceof List<?>) {
            problems.add(at + key + " must be a single value");
            return Optional.empty();
        }
        String text = String.valueOf(value).trim();
        return text.isEmpty() ? Optional.empty() : Optional.of(text);
    }

    private String required(Map<String, Object> map, String key, String at) {
        Optional<String> value = text(map, key, at);
        if (value.isEmpty()) {
            problems.add(at + key + " is required");
        }
        return value.orElse("");
    }

    private boolean bool(Map<String, Object> map, String key, String at, boolean fallback) {
        Object value = map.get(key);
        if (value == null) {
            return fallback;
        }
        if (value instanceof Boolean b) {
            return b;
        }
        problems.add(at + key + " must be true or false");
        return fallback;
    }

    private int number(Map<String, Object> map, String key, String at, int fallback) {
        Object value = map.get(key);
        if (value == null) {
            return fallback;
        }
        if (value instanceof Integer i && i > 0) {
            return i;
        }
        problems.add(at + key + " must be a positive whole number");
        return fallback;
    }

    private List<String> list(Map<String, Object> map, String key, String at) {
        Object value = map.get(key);
        if (value == null) {
            return List.of();
        }
        if (value instanceof List<?> list) {
            return list.stream().map(String::valueOf).map(String::trim).toList();
        }
        problems.add(at + key + " must be a list");
        return List.of();
    }

    private Map<String, String> strings(Map<String, Object> map, String key, String at) {
        Map<String, String> result = new LinkedHashMap<>();
        Object value = map.get(key);
        if (value == null) {
            return result;
        }
        if (!(value instanceof Map<?, ?> entries)) {
            problems.add(at + key + " must be a mapping");
            return result;
        }
        entries.forEach((k, v) -> result.put(String.valueOf(k), String.valueOf(v)));
        return result;
    }
}
