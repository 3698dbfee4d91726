import gov.nist.secauto.metaschema.binding.IBindingContext;
import gov.nist.secauto.metaschema.binding.io.Format;
import gov.nist.secauto.metaschema.model.common.validation.IValidationFinding;
import gov.nist.secauto.metaschema.model.common.validation.IValidationResult;
import gov.nist.secauto.metaschema.model.common.validation.JsonSchemaContentValidator;
import gov.nist.secauto.oscal.lib.OscalBindingContext;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.json.JSONObject;

/**
 * Validates OSCAL JSON documents the way NIST's oscal-cli does (`oscal-cli ar validate`): against the official OSCAL
 * JSON schema of the document's model, then against the OSCAL metaschema constraints (allowed values, cross
 * references), both through NIST's liboscal-java. oscal-cli itself is not served by the registry this project can
 * reach; liboscal-java, the library it wraps, is. Usage: OscalValidate FILE...; exit 1 when any file has an error.
 */
public final class OscalValidate {
  public static void main(String[] args) throws Exception {
    if (args.length == 0) {
      System.err.println("usage: oscal-validate FILE...");
      System.exit(2);
    }
    IBindingContext context = OscalBindingContext.instance();
    boolean passing = true;
    for (String arg : args) {
      Path file = Path.of(arg);
      String model = modelOf(file);
      JSONObject schema;
      try (InputStream in = OscalBindingContext.class.getResourceAsStream("/schema/json/oscal-" + model + "_schema.json")) {
        schema = new JSONObject(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
      }
      IValidationResult result = context.validate(file, Format.JSON, new IBindingContext.IValidationSchemaProvider() {
        public JSONObject getJsonSchema() { return schema; }
        public List<javax.xml.transform.Source> getXmlSchemas() { return List.of(); }
      });
      if (result.isPassing()) result = context.validateWithConstraints(file);
      for (IValidationFinding finding : result.getFindings()) {
        System.out.println(arg + ": " + finding.getSeverity() + ": " + finding.getMessage());
      }
      System.out.println(arg + ": " + (result.isPassing() ? "valid" : "INVALID") + " OSCAL " + model);
      passing &= result.isPassing();
    }
    System.exit(passing ? 0 : 1);
  }

  /** The short model name of the schema resource (ar, ap, ...), from the document's root property. */
  private static String modelOf(Path file) throws Exception {
    JSONObject document = new JSONObject(Files.readString(file));
    if (document.has("assessment-results")) return "ar";
    if (document.has("assessment-plan")) return "ap";
    throw new IllegalArgumentException(file + ": neither assessment-results nor assessment-plan at the root");
  }
}
