// The LiveChat module.
import Foundation
