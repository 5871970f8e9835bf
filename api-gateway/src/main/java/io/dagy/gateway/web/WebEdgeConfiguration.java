package io.dagy.gateway.web;

import org.apache.catalina.Container;
import org.apache.catalina.Valve;
import org.apache.catalina.core.StandardHost;
import org.apache.catalina.valves.ErrorReportValve;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.http.MediaType;
import org.springframework.http.converter.ByteArrayHttpMessageConverter;
import org.springframework.http.converter.HttpMessageConverter;
import org.springframework.http.converter.ResourceHttpMessageConverter;
import org.springframework.http.converter.ResourceRegionHttpMessageConverter;
import org.springframework.http.converter.StringHttpMessageConverter;
import org.springframework.http.converter.json.JacksonJsonHttpMessageConverter;
import org.springframework.web.HttpMediaTypeNotAcceptableException;
import org.springframework.web.accept.HeaderContentNegotiationStrategy;
import org.springframework.web.context.request.NativeWebRequest;
import org.springframework.web.servlet.config.annotation.ContentNegotiationConfigurer;
import org.springframework.web.servlet.config.annotation.InterceptorRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.MapperFeature;
import tools.jackson.databind.cfg.CoercionAction;
import tools.jackson.databind.cfg.CoercionInputShape;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.type.LogicalType;

import java.util.List;

/**
 * The HTTP edge: what reaches a controller is a well-formed request, and whatever is refused on the way is a problem
 * response. Three places: the request firewall (a filter, first of all), the JSON reader (strict, for request bodies
 * only) and Tomcat's own error report (a problem instead of an HTML page).
 */
@Configuration(proxyBeanMethods = false)
class WebEdgeConfiguration implements WebMvcConfigurer {

    private final JsonMapper jsonMapper;

    WebEdgeConfiguration(JsonMapper jsonMapper) {
        this.jsonMapper = jsonMapper;
    }

    /** Before every other filter, authentication included: a malformed request costs nothing more. */
    @Bean
    FilterRegistrationBean<RequestFirewall> requestFirewall() {
        FilterRegistrationBean<RequestFirewall> registration = new FilterRegistrationBean<>(new RequestFirewall());
        registration.setOrder(Ordered.HIGHEST_PRECEDENCE + 10);
        return registration;
    }

    /**
     * Replaces the host's {@link ErrorReportValve} (Spring Boot adds one that hides the stack trace; Tomcat adds its
     * own otherwise) with {@link ProblemReportValve}. Runs after Boot's customizer, so Boot's valve is there to remove.
     */
    @Bean
    WebServerFactoryCustomizer<TomcatServletWebServerFactory> problemReportValve() {
        return new WebServerFactoryCustomizer<>() {
            @Override
            public void customize(TomcatServletWebServerFactory factory) {
                factory.addContextCustomizers(context -> {
                    Container host = context.getParent();
                    for (Valve valve : host.getPipeline().getValves()) {
                        if (valve instanceof ErrorReportValve && !(valve instanceof ProblemReportValve)) {
                            host.getPipeline().removeValve(valve);
                        }
                    }
                    host.getPipeline().addValve(new ProblemReportValve());
                    if (host instanceof StandardHost standardHost) {
                        // else the host adds Tomcat's own valve when it starts
                        standardHost.setErrorReportValveClass(ProblemReportValve.class.getName());
                    }
                });
            }
        };
    }

    /**
     * JSON is the API's only format: converters for other formats (XML, CBOR, Jackson 2's, which libraries on the class
     * path bring along) are dropped, and request bodies are read strictly: the JSON converter's mapper refuses what
     * Jackson would otherwise coerce or ignore. Responses are written as before (the same mapper, rebuilt).
     */
    @Override
    public void extendMessageConverters(List<HttpMessageConverter<?>> converters) {
        JacksonJsonHttpMessageConverter strict = new JacksonJsonHttpMessageConverter(strictReader(jsonMapper));
        converters.removeIf(converter -> !(converter instanceof JacksonJsonHttpMessageConverter
                || converter instanceof StringHttpMessageConverter || converter instanceof ByteArrayHttpMessageConverter
                || converter instanceof ResourceHttpMessageConverter
                || converter instanceof ResourceRegionHttpMessageConverter));
        converters.replaceAll(converter -> converter instanceof JacksonJsonHttpMessageConverter ? strict : converter);
    }

    /** A request that cannot take a JSON answer is refused before its handler runs, not after it changed something. */
    @Override
    public void addInterceptors(InterceptorRegistry registry) {
        registry.addInterceptor(new JsonAnswers());
    }

    /**
     * An {@code Accept} header that cannot be parsed counts as absent (any type), instead of failing content
     * negotiation, which Spring answers with an empty body when the response is an error.
     */
    @Override
    public void configureContentNegotiation(ContentNegotiationConfigurer configurer) {
        configurer.strategies(List.of(new HeaderContentNegotiationStrategy() {
            @Override
            public List<MediaType> resolveMediaTypes(NativeWebRequest request) {
                try {
                    return super.resolveMediaTypes(request);
                } catch (HttpMediaTypeNotAcceptableException unreadable) {
                    return MEDIA_TYPE_ALL_LIST;
                }
            }
        }));
    }

    /**
     * The application's mapper, refusing on read: unknown fields (a misspelt {@code max_atempts} would silently be
     * the default), numbers or booleans where text is expected and text where a number is ({@code "id": 1},
     * {@code "max_attempts": "3"}), fractions for integers ({@code 2.5}), nulls for primitives, a repeated key, and
     * anything after the JSON value. Read-model and event serialization keep the lenient mapper, so stored data from
     * older versions stays readable.
     */
    static JsonMapper strictReader(JsonMapper mapper) {
        return mapper.rebuild()
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                .withCoercionConfigDefaults(config -> config
                        .setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail))
                .withCoercionConfig(LogicalType.Textual, config -> config
                        .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                        .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                        .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail))
                .withCoercionConfig(LogicalType.Boolean, config -> config
                        .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail))
                .withCoercionConfig(LogicalType.Integer, config -> config
                        .setCoercion(CoercionInputShape.Float, CoercionAction.Fail))
                .build();
    }
}
