/* The catalogue, in order: one LOSS(name) line per loss, grouped by family files. Each name
 * has a `const loss_desc loss_desc_<name>` defined in core/losses/. */
LOSS(mse)
#include "losses/seed_elementwise.h"
#include "losses/seed_structured.h"
#include "losses/catalogue_elementwise.h"
#include "losses/catalogue_structured.h"
